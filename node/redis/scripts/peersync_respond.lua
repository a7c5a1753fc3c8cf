-- peersync_respond: CONNECTION_RESPONSE. Consumes the pending request
-- addressed to the responder; on acceptance creates the peer session (both
-- participants, each one's partner in p:<user>), points the pair record at
-- it and adds it to both users' session sets.
--
-- KEYS[1]  request hash     <prefix>peersync:request:{<request id>}
-- ARGV[1]  responder        ARGV[2]  "1" accepted, "0" rejected
-- ARGV[3]  new session id   ARGV[4]  now (ms)   ARGV[5]  ttl (s)
-- ARGV[6]  peersync key prefix  <prefix>peersync:
--
-- Builds the session, pair and set keys here (standalone Redis).
-- Returns {status, requester, requester profile}; status accepted |
-- rejected | unknown (no such pending request for this responder).
local req = redis.call('HMGET', KEYS[1], 'from', 'to', 'profile')
if not req[1] or req[2] ~= ARGV[1] then return {'unknown', '', ''} end
redis.call('DEL', KEYS[1])
local from, to, p = req[1], req[2], ARGV[6]
local a, b = from, to
if b < a then a, b = b, a end
local pair = p .. 'pair:{' .. a .. '}:' .. b
if ARGV[2] ~= '1' then
    redis.call('DEL', pair)
    return {'rejected', from, req[3]}
end
local session = p .. 'session:{' .. ARGV[3] .. '}'
redis.call('HSET', session, 'a', from, 'b', to, 'p:' .. from, to, 'p:' .. to, from,
    'created', ARGV[4], 'active', ARGV[4])
redis.call('EXPIRE', session, ARGV[5])
redis.call('SET', pair, 'session:' .. ARGV[3], 'EX', ARGV[5])
for _, user in ipairs({from, to}) do
    local set = p .. 'user-sessions:{' .. user .. '}'
    redis.call('SADD', set, ARGV[3])
    redis.call('EXPIRE', set, ARGV[5])
end
return {'accepted', from, req[3]}
