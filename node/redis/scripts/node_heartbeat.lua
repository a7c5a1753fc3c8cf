-- node_heartbeat: every 2 s a node renews its liveness record, releases what
-- dead nodes held and reads the cluster's totals for /health. A node whose
-- record has expired (10 s) is dead: session_join counts its members offline
-- and its sessions stop counting as active.
--
-- KEYS[1]  node hash        <prefix>node:<node id>
-- KEYS[2]  nodes zset       <prefix>nodes        (<node id>/<boot> -> last heartbeat ms)
-- KEYS[3]  sessions zset    <prefix>sessions     (kind:id -> last activity ms)
-- KEYS[4]  online hash      <prefix>sessions:online (kind:id -> live nodes holding members)
-- ARGV[1]  node id          ARGV[2]  now (ms)
-- ARGV[3]  node ttl (s)     ARGV[4]  session ttl (s)
-- ARGV[5]  connections      ARGV[6]  local sessions
-- ARGV[7]  started (ms)     ARGV[8]  self-check channel
-- ARGV[9]  node key prefix (<prefix>node:)
-- ARGV[10] boot id: random per process, part of every holder's name
-- ARGV[11] prefix of the sets of sessions each node holds (see node_session):
--          <prefix>node-sessions:<node id>/<boot>
--
-- Reads other nodes' keys by name: fine on a standalone Redis, which is
-- what syncrelay supports today (Cluster would need a hash tag per node).
-- Returns {active sessions, connections on live nodes, live nodes, fresh};
-- fresh = 1 when this node's record had expired (first beat, or Redis lost
-- it): the node then registers its sessions again.
local now, node_ttl_ms = tonumber(ARGV[2]), tonumber(ARGV[3]) * 1000
-- fresh: this process is new to the cluster, or others took it for dead
-- (its record expired, or its entry was pruned and its set released)
local fresh = (redis.call('EXISTS', KEYS[1]) == 0 or
    not redis.call('ZSCORE', KEYS[2], ARGV[1] .. '/' .. ARGV[10])) and 1 or 0
redis.call('HSET', KEYS[1], 'connections', ARGV[5], 'sessions', ARGV[6],
    'started', ARGV[7], 'seen', ARGV[2], 'boot', ARGV[10])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1] .. '/' .. ARGV[10])
-- this node's set and the online hash live a session's TTL past the last beat
redis.call('EXPIRE', ARGV[11] .. ARGV[1] .. '/' .. ARGV[10], ARGV[4])
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('EXPIRE', KEYS[4], ARGV[4]) end

-- a node (process) silent for longer than its record lives is dead
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - node_ttl_ms))) do
    local set = ARGV[11] .. dead
    for _, session in ipairs(redis.call('SMEMBERS', set)) do
        if redis.call('HINCRBY', KEYS[4], session, -1) <= 0 then redis.call('HDEL', KEYS[4], session) end
    end
    redis.call('DEL', set)
    redis.call('ZREM', KEYS[2], dead)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]) * 1000)

local connections, live = 0, 0
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], now - node_ttl_ms, '+inf')) do
    local id, boot = string.match(name, '^(.*)/([^/]*)$')
    if id and redis.call('HGET', ARGV[9] .. id, 'boot') == boot then
        connections = connections + tonumber(redis.call('HGET', ARGV[9] .. id, 'connections') or '0')
        live = live + 1
    end
end
redis.call('PUBLISH', ARGV[8], ARGV[2])
return {redis.call('HLEN', KEYS[4]), connections, live, fresh}
