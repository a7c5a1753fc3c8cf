-- cluster_nodes: the live nodes' records, for the dashboard (GET /api/cluster).
--
-- KEYS[1]  nodes zset       <prefix>nodes  (<node id>/<boot> -> last heartbeat ms)
-- ARGV[1]  node key prefix  <prefix>node:
-- ARGV[2]  now (ms)         ARGV[3]  node ttl (s)
--
-- Reads the nodes' records by name: fine on a standalone Redis, as in
-- node_heartbeat. A node counts as live as node_heartbeat counts it: a
-- heartbeat within the node ttl and a record of the same boot.
-- Returns {{node id, field, value, ...}, ...}: each live node's record
-- (connections, sessions, started, seen, boot, stats).
local now, ttl_ms = tonumber(ARGV[2]), tonumber(ARGV[3]) * 1000
local out = {}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now - ttl_ms, '+inf')) do
    local id, boot = string.match(name, '^(.*)/([^/]*)$')
    if id and redis.call('HGET', ARGV[1] .. id, 'boot') == boot then
        local node = redis.call('HGETALL', ARGV[1] .. id)
        table.insert(node, 1, id)
        out[#out + 1] = node
    end
end
return out
