-- ratelimit: counts one failed join attempt from a client IP in a per-minute
-- window shared by every node. INCR and EXPIRE in one script, so the counter
-- can never be left without a TTL (which would block that IP for good).
--
-- KEYS[1]  counter          <prefix>ratelimit:join:<ip>
-- ARGV[1]  window (s)
--
-- Returns the count. Nodes read it with GET before a join and refuse once it
-- reaches JOIN_RATE_LIMIT. Failures are counted when they happen, so many
-- sockets guessing at the same instant can exceed the limit by what they send
-- in parallel before the first failures are counted; counting attempts up
-- front instead would refuse legitimate bursts (clients behind one NAT all
-- resuming after a node restart).
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
