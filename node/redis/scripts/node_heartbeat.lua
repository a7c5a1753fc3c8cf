-- node_heartbeat: every 2 s a node renews its liveness record, releases what
-- dead nodes held and reads the cluster's totals for /health. A node whose
-- record has expired (10 s) is dead: session_join counts its members offline
-- and its sessions stop counting as active.
--
-- Every key here carries the hash tag {nodes}: the node registry is one slot,
-- written once per heartbeat per node and on a node starting or stopping to
-- hold a session, never per message. The live list this returns is what the
-- node passes to the per-session scripts (session_join...), so they decide a
-- holder's liveness without reading this slot.
--
-- KEYS[1]  node hash        <prefix>{nodes}:node:<node id>
-- KEYS[2]  nodes zset       <prefix>{nodes}:nodes  (<node id>/<boot> -> last heartbeat ms)
-- KEYS[3]  sessions zset    <prefix>{nodes}:sessions (kind:id -> last activity ms)
-- KEYS[4]  online hash      <prefix>{nodes}:sessions:online (kind:id -> live nodes holding members)
-- ARGV[1]  node id          ARGV[2]  now (ms)
-- ARGV[3]  node ttl (s)     ARGV[4]  session ttl (s)
-- ARGV[5]  connections      ARGV[6]  local sessions
-- ARGV[7]  started (ms)     ARGV[8]  self-check channel <prefix>chan:node:<node id>
-- ARGV[9]  node key prefix (<prefix>{nodes}:node:)
-- ARGV[10] boot id: random per process, part of every holder's name
-- ARGV[11] prefix of the sets of sessions each node holds (see node_session):
--          <prefix>{nodes}:node-sessions:<node id>/<boot>
--
-- Reads other nodes' records and dead nodes' sets by name: they are not known
-- before this reads the zset, and the {nodes} tag keeps them in this slot.
-- Returns {active sessions, connections on live nodes, live nodes, fresh,
-- live list}; fresh = 1 when this node's record had expired (first beat, or
-- Redis lost it): the node then registers its sessions again. The live list
-- is "|<node id>/<boot>|...|", every live node process.
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

local connections, live, list = 0, 0, {''}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], now - node_ttl_ms, '+inf')) do
    local id, boot = string.match(name, '^(.*)/([^/]*)$')
    if id and redis.call('HGET', ARGV[9] .. id, 'boot') == boot then
        connections = connections + tonumber(redis.call('HGET', ARGV[9] .. id, 'connections') or '0')
        live = live + 1
        list[#list + 1] = name
    end
end
redis.call('PUBLISH', ARGV[8], ARGV[2])
list[#list + 1] = ''
-- a new process tells the others' own channels ("+<node>/<boot>"): they beat
-- at once, so their live lists hold it before it serves its first client
if fresh == 1 then
    local channels = string.sub(ARGV[8], 1, #ARGV[8] - #ARGV[1])
    for i = 2, #list - 1 do
        local id = string.match(list[i], '^(.*)/[^/]*$')
        if id ~= ARGV[1] then
            redis.call('PUBLISH', channels .. id, '+' .. ARGV[1] .. '/' .. ARGV[10])
        end
    end
end
return {redis.call('HLEN', KEYS[4]), connections, live, fresh, table.concat(list, '|')}
