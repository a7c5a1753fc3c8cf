-- peersync_refresh: a connected user's periodic refresh (every SESSION_TTL/10
-- at most 60 s): its presence entry, if this connection still holds it, and
-- its peer sessions with their pair records, so quiet sessions of live users
-- do not expire.
--
-- KEYS[1]  presence hash    <prefix>peersync:peer:{<user>}
-- KEYS[2]  presence index   <prefix>peersync:peers
-- KEYS[3]  user's sessions  <prefix>peersync:user-sessions:{<user>} (set)
-- ARGV[1]  user             ARGV[2]  holder of the connection
-- ARGV[3]  now (ms)         ARGV[4]  ttl (s)
-- ARGV[5]  peersync key prefix  <prefix>peersync:
-- Returns 1 when the presence entry was refreshed, else 0.
local refreshed = 0
if redis.call('HGET', KEYS[1], 'holder') == ARGV[2] then
    redis.call('EXPIRE', KEYS[1], ARGV[4])
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
    refreshed = 1
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local session = ARGV[5] .. 'session:{' .. id .. '}'
    local partner = redis.call('HGET', session, 'p:' .. ARGV[1])
    if partner then
        redis.call('EXPIRE', session, ARGV[4])
        local a, b = ARGV[1], partner
        if b < a then a, b = b, a end
        redis.call('EXPIRE', ARGV[5] .. 'pair:{' .. a .. '}:' .. b, ARGV[4])
    else
        redis.call('SREM', KEYS[3], id)
    end
end
redis.call('EXPIRE', KEYS[3], ARGV[4])
return refreshed
