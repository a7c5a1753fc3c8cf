-- peersync_request: CONNECTION_REQUEST. Checks that the requester is
-- registered on this connection, that the target is present (on a live node)
-- and that the two are not connected already (a pending request either way,
-- or an active session), then records the pending request. Its delivery to
-- the target is a separate post into the target's inbox.
--
-- KEYS[1]  requester's presence   <prefix>peersync:peer:{<from>}
-- KEYS[2]  target's presence      <prefix>peersync:peer:{<to>}
-- KEYS[3]  pair record            <prefix>peersync:pair:{<lower id>}:<higher id>
--                                 "request:<id>" or "session:<id>"
-- KEYS[4]  request hash           <prefix>peersync:request:{<request id>}
-- ARGV[1]  from    ARGV[2]  to    ARGV[3]  requester's holder   ARGV[4]  request id
-- ARGV[5]  now (ms)    ARGV[6]  ttl (s)    ARGV[7]  node key prefix
-- ARGV[8]  peersync key prefix    <prefix>peersync:
-- ARGV[9]  stale (ms): as in peersync_discover, a node silent for longer is down
--
-- Returns {status, requester profile, target profile}; status ok |
-- unregistered | notfound | connected.
local function online(holder)
    local node, boot = string.match(holder or '', '^([^/]+)/([^/]+)/')
    if not node then return false end
    local n = redis.call('HMGET', ARGV[7] .. node, 'boot', 'seen')
    return n[1] == boot and tonumber(ARGV[5]) - tonumber(n[2] or '0') <= tonumber(ARGV[9])
end

local mine = redis.call('HMGET', KEYS[1], 'holder', 'profile')
if mine[1] ~= ARGV[3] then return {'unregistered', '', ''} end
local target = redis.call('HMGET', KEYS[2], 'holder', 'profile')
if not online(target[1]) then return {'notfound', '', ''} end
local link = redis.call('GET', KEYS[3])
if link then
    local kind, id = string.match(link, '^(%a+):(.*)$')
    if kind and redis.call('EXISTS', ARGV[8] .. kind .. ':{' .. id .. '}') == 1 then
        return {'connected', '', ''}
    end
end
redis.call('HSET', KEYS[4], 'from', ARGV[1], 'to', ARGV[2], 'profile', mine[2], 'created', ARGV[5])
redis.call('EXPIRE', KEYS[4], ARGV[6])
redis.call('SET', KEYS[3], 'request:' .. ARGV[4], 'EX', ARGV[6])
return {'ok', mine[2], target[2]}
