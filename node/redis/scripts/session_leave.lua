-- session_leave: a connection gives its member back. Only the current holder
-- may: a connection that was superseded leaves nothing behind.
--
-- KEYS[1]  session hash
-- ARGV[1]  member           ARGV[2]  owner of the leaving connection
-- ARGV[3]  last seq delivered to it (resume point for clients without lastSeq)
-- ARGV[4]  channel          ARGV[5]  left envelope ("" for none)
--
-- Returns 1 when the member was released, 0 otherwise.
local session, member = KEYS[1], 'm:' .. ARGV[1]
if redis.call('HGET', session, member) ~= ARGV[2] then return 0 end
redis.call('HSET', session, member, '', 'd:' .. ARGV[1], ARGV[3])
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 1
