-- session_publish: one relayed message, one round trip. Checks the sender
-- still holds its member, assigns the session's next seq, writes it into the
-- frame, retains the envelope in the log and publishes it.
--
-- KEYS[1]  session hash     KEYS[2]  session log
-- ARGV[1]  channel          ARGV[2]  from member      ARGV[3]  owner
-- ARGV[4]  to ("*", "@" or a member)
-- ARGV[5]  ttl (s)          ARGV[6]  now (ms)
-- ARGV[7]  history size     ARGV[8]  touch ("1": refresh TTLs now)
-- ARGV[9]  min members ever joined, else "unpaired"
-- ARGV[10] seq position: the seq is written after frame part number N (0: not written)
-- ARGV[11..] frame parts
--
-- Returns {status, seq}: ok | gone (session expired) | superseded | unpaired.
local session, log = KEYS[1], KEYS[2]
local holder = redis.call('HGET', session, 'm:' .. ARGV[2])
if holder ~= ARGV[3] then
    if not holder and redis.call('EXISTS', session) == 0 then return {'gone', 0} end
    return {'superseded', 0}
end
local need = tonumber(ARGV[9])
if need > 1 and tonumber(redis.call('HGET', session, 'members')) < need then
    return {'unpaired', 0}
end

local seq = redis.call('HINCRBY', session, 'seq', 1)
local parts = {'m\n', seq, '\n', ARGV[2], '\n', ARGV[4], '\n'}
local at = tonumber(ARGV[10])
for i = 11, #ARGV do
    parts[#parts + 1] = ARGV[i]
    if i - 10 == at then parts[#parts + 1] = seq end
end
local envelope = table.concat(parts)

local length = redis.call('RPUSH', log, envelope)
if length > tonumber(ARGV[7]) then redis.call('LTRIM', log, -tonumber(ARGV[7]), -1) end
if length == 1 or ARGV[8] == '1' then redis.call('EXPIRE', log, ARGV[5]) end
if ARGV[8] == '1' then
    redis.call('HSET', session, 'active', ARGV[6])
    redis.call('EXPIRE', session, ARGV[5])
end
redis.call('PUBLISH', ARGV[1], envelope)
return {'ok', seq}
