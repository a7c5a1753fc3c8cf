-- peersync_register: a user's presence entry (PEER_REGISTER), naming the
-- connection that holds it, and its place in the presence index that
-- DISCOVER_PEERS walks (no KEYS/SCAN anywhere).
--
-- KEYS[1]  presence hash    <prefix>peersync:peer:{<user>}
-- KEYS[2]  presence index   <prefix>peersync:peers (user -> last refresh ms)
-- ARGV[1]  user             ARGV[2]  holder "<node>/<boot>/<conn>"
-- ARGV[3]  profile JSON     ARGV[4]  role      ARGV[5]  ide
-- ARGV[6]  status           ARGV[7]  now (ms)  ARGV[8]  ttl (s)
-- Returns 1.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'holder', ARGV[2], 'profile', ARGV[3], 'role', ARGV[4],
    'ide', ARGV[5], 'status', ARGV[6], 'registered', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
-- entries not refreshed within a TTL are gone: keep the index as small as presence
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[7]) - tonumber(ARGV[8]) * 1000)
return 1
