-- session_touch: a node's periodic refresh of a session it has live members
-- of (at most once per SESSION_TTL/10), so idle but connected sessions do not
-- expire, and a record of how far each local member has been served.
--
-- KEYS[1]  session hash     KEYS[2]  session log
-- ARGV[1]  ttl (s, 0: none)          ARGV[2]  now (ms)
-- ARGV[3..] triples: member, owner, last seq delivered
--
-- Returns the owners (of the triples) that no longer hold their member: their
-- node missed the supersede envelope and closes them now.
-- ttl 0: the keys do not expire (device-sync state with DEVICE_STATE_TTL=0)
local function expire(key, ttl)
    if tonumber(ttl) > 0 then redis.call('EXPIRE', key, ttl) else redis.call('PERSIST', key) end
end
local session = KEYS[1]
local lost = {}
if redis.call('EXISTS', session) == 0 then return lost end
expire(session, ARGV[1])
expire(KEYS[2], ARGV[1])
redis.call('HSET', session, 'active', ARGV[2])
for i = 3, #ARGV, 3 do
    if redis.call('HGET', session, 'm:' .. ARGV[i]) == ARGV[i + 1] then
        redis.call('HSET', session, 'd:' .. ARGV[i], ARGV[i + 2])
    else
        lost[#lost + 1] = ARGV[i + 1]
    end
end
return lost
