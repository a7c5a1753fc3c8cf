-- peersync_leave: a user's connection is gone. Its presence entry goes if
-- this connection still holds it. When the client itself went away (not a
-- supersede, not a server restart) and this connection still holds the
-- user's inbox, the user's peer sessions end: they are removed and the
-- partners are returned, to be told (SESSION_ENDED).
--
-- KEYS[1]  presence hash    <prefix>peersync:peer:{<user>}
-- KEYS[2]  presence index   <prefix>peersync:peers
-- KEYS[3]  user's sessions  <prefix>peersync:user-sessions:{<user>}
-- KEYS[4]  inbox session    <prefix>session:peersync:{<user>}
-- ARGV[1]  user             ARGV[2]  holder of the closed connection
-- ARGV[3]  "1": end the sessions     ARGV[4]  peersync key prefix
-- Returns a flat list: session id, partner, ...
if redis.call('HGET', KEYS[1], 'holder') == ARGV[2] then
    redis.call('DEL', KEYS[1])
    redis.call('ZREM', KEYS[2], ARGV[1])
end
local ended = {}
if ARGV[3] ~= '1' or redis.call('HGET', KEYS[4], 'm:user') ~= ARGV[2] then return ended end
local p, user = ARGV[4], ARGV[1]
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local session = p .. 'session:{' .. id .. '}'
    local partner = redis.call('HGET', session, 'p:' .. user)
    if partner then
        redis.call('DEL', session)
        local a, b = user, partner
        if b < a then a, b = b, a end
        redis.call('DEL', p .. 'pair:{' .. a .. '}:' .. b)
        redis.call('SREM', p .. 'user-sessions:{' .. partner .. '}', id)
        ended[#ended + 1] = id
        ended[#ended + 1] = partner
    end
end
redis.call('DEL', KEYS[3])
return ended
