-- account_create: registers a device-sync account, unless the email is taken.
-- Atomic, so two registrations of one address racing on different nodes end
-- with exactly one account. Accounts have no TTL.
--
-- KEYS[1]  account hash     <prefix>account:{<email, lower case>}
-- ARGV[1]  user id          ARGV[2]  email (lower case)
-- ARGV[3]  password record  "scrypt$<log2 N>$<r>$<p>$<salt>$<hash>"
-- ARGV[4]  now (ms)
--
-- Returns 1 when created, 0 when the email already has an account.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'email', ARGV[2], 'password', ARGV[3],
    'created', ARGV[4])
return 1
