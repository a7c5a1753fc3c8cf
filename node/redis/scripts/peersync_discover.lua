-- peersync_discover: DISCOVER_PEERS. Walks the presence index (bounded by the
-- users registered within SESSION_TTL), skips the caller and entries that do
-- not match the filters, and drops entries whose holder is gone: an entry
-- counts only while its holder's node is alive with the same boot (see
-- session_join), so a crashed node's users vanish within seconds.
--
-- KEYS[1]  presence index   <prefix>peersync:peers
-- ARGV[1]  presence key prefix   <prefix>peersync:peer:
-- ARGV[2]  node key prefix       <prefix>node:
-- ARGV[3]  caller (excluded)     ARGV[4] role filter ("" any)  ARGV[5] ide filter ("" any)
-- ARGV[6]  now (ms)              ARGV[7] ttl (s)
-- ARGV[8]  stale (ms): a node whose last heartbeat ('seen') is older than this
--          counts as down already (its liveness key lives 10 s past the last
--          beat; three missed beats tell sooner). Its entries are skipped, not
--          deleted: a node that is only slow keeps its users.
--
-- Reads presence and node keys by name (standalone Redis, like sessions_read).
-- Returns a flat list: user, profile JSON, status, ...
local now = tonumber(ARGV[6])
local function liveness(holder)
    local node, boot = string.match(holder, '^([^/]+)/([^/]+)/')
    if not node then return 'dead' end
    local n = redis.call('HMGET', ARGV[2] .. node, 'boot', 'seen')
    if n[1] ~= boot then return 'dead' end
    if now - tonumber(n[2] or '0') > tonumber(ARGV[8]) then return 'stale' end
    return 'live'
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[7]) * 1000)
local out = {}
for _, user in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local key = ARGV[1] .. '{' .. user .. '}'
    local e = redis.call('HMGET', key, 'holder', 'role', 'ide', 'profile', 'status')
    local state = e[1] and liveness(e[1])
    if not e[1] then
        redis.call('ZREM', KEYS[1], user)
    elseif state == 'dead' then
        redis.call('DEL', key)
        redis.call('ZREM', KEYS[1], user)
    elseif state == 'live' and user ~= ARGV[3] and (ARGV[4] == '' or e[2] == ARGV[4]) and
        (ARGV[5] == '' or e[3] == ARGV[5]) then
        out[#out + 1] = user
        out[#out + 1] = e[4]
        out[#out + 1] = e[5]
    end
end
return out
