-- node_heartbeat: every 2 s a node renews its liveness record, prunes the
-- cluster indexes and reads the cluster's totals for /health. A node whose
-- record has expired (10 s) is dead: session_join counts its members offline.
--
-- KEYS[1]  node hash        <prefix>node:<node id>
-- KEYS[2]  nodes zset       <prefix>nodes        (node id -> last heartbeat ms)
-- KEYS[3]  sessions zset    <prefix>sessions     (kind:id -> last activity ms)
-- ARGV[1]  node id          ARGV[2]  now (ms)
-- ARGV[3]  node ttl (s)     ARGV[4]  session ttl (s)
-- ARGV[5]  connections      ARGV[6]  local sessions
-- ARGV[7]  started (ms)     ARGV[8]  self-check channel
-- ARGV[9]  node hash prefix (<prefix>node:)
-- ARGV[10] boot id: random per process, part of every holder's name
--
-- Reads other nodes' hashes by name: fine on a standalone Redis, which is
-- what syncrelay supports today (Cluster would need a hash tag per node).
-- Returns {active sessions, connections on live nodes, live nodes}.
local now = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'connections', ARGV[5], 'sessions', ARGV[6],
    'started', ARGV[7], 'seen', ARGV[2], 'boot', ARGV[10])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]) * 1000)

local connections, live = 0, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], now - tonumber(ARGV[3]) * 1000, '+inf')) do
    local count = redis.call('HGET', ARGV[9] .. id, 'connections')
    if count then
        connections = connections + tonumber(count)
        live = live + 1
    end
end
redis.call('PUBLISH', ARGV[8], ARGV[2])
return {redis.call('ZCARD', KEYS[3]), connections, live}
