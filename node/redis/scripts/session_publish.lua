-- session_publish: one relayed message, one round trip. Checks the sender
-- still holds its member, optionally checks and sets one piece of the
-- session's stored state, assigns the session's next seq, writes it into the
-- frame, retains the envelope in the log and publishes it.
--
-- KEYS[1]  session hash     KEYS[2]  session log
-- ARGV[1]  channel          ARGV[2]  from member      ARGV[3]  owner
-- ARGV[4]  to ("*", "@" or a member)
-- ARGV[5]  ttl (s, 0: none)  ARGV[6]  now (microseconds: the envelope's time)
-- ARGV[7]  history size     ARGV[8]  touch ("1": refresh TTLs now)
-- ARGV[9]  min members ever joined, else "unpaired"
-- ARGV[10] seq position: the seq is written after frame part number N (0: not written)
-- ARGV[11] state name ("" for none): the value goes to field s:<name>, and
--          field v:<name> counts its versions
-- ARGV[12] state value
-- ARGV[13] state check: "" none, "=" the value must equal ARGV[14], "!" it
--          must differ from ARGV[14] (an unset value reads as ""), "v" the
--          version must equal ARGV[14] (an unset state is version 0)
-- ARGV[14] check operand
-- ARGV[15] version position: the new version is written after part N (0: not)
-- ARGV[16] "1": the target member ARGV[4] must be online (held by a connection
--          on a live node, as in session_join), else "offline"
-- ARGV[17] live nodes "|<node>/<boot>|...|" when ARGV[16] is "1" (as in
--          session_join), else "": per message it stays an empty argument
-- ARGV[18..] frame parts
--
-- Returns {status, seq, version, current value, current version}:
-- ok | gone (session expired) | superseded | unpaired | conflict (the check
-- failed: nothing was written; the current value and version are returned) |
-- offline (ARGV[16] and the target is not online: nothing was written).
-- ttl 0: the keys do not expire (device-sync state with DEVICE_STATE_TTL=0)
local function expire(key, ttl)
    if tonumber(ttl) > 0 then redis.call('EXPIRE', key, ttl) else redis.call('PERSIST', key) end
end
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
if ARGV[16] == '1' then
    local target = redis.call('HGET', session, 'm:' .. ARGV[4]) or ''
    local process = string.match(target, '^([^/]+/[^/]+)/')
    if not process or not string.find(ARGV[17], '|' .. process .. '|', 1, true) then
        return {'offline', 0}
    end
end

local version = 0
if ARGV[11] ~= '' then
    local field, vfield = 's:' .. ARGV[11], 'v:' .. ARGV[11]
    local current = redis.call('HGET', session, field) or ''
    local current_version = tonumber(redis.call('HGET', session, vfield) or '0')
    local check, operand = ARGV[13], ARGV[14]
    if (check == '=' and current ~= operand) or (check == '!' and current == operand) or
        (check == 'v' and current_version ~= tonumber(operand)) then
        return {'conflict', 0, 0, current, current_version}
    end
    version = redis.call('HINCRBY', session, vfield, 1)
    redis.call('HSET', session, field, ARGV[12])
end

local seq = redis.call('HINCRBY', session, 'seq', 1)
local parts = {'m ', ARGV[6], '\n', seq, '\n', ARGV[2], '\n', ARGV[4], '\n'}
local at, vat = tonumber(ARGV[10]), tonumber(ARGV[15])
for i = 18, #ARGV do
    parts[#parts + 1] = ARGV[i]
    if i - 17 == at then parts[#parts + 1] = seq end
    if i - 17 == vat then parts[#parts + 1] = version end
end
local envelope = table.concat(parts)

local length = redis.call('RPUSH', log, envelope)
if length > tonumber(ARGV[7]) then redis.call('LTRIM', log, -tonumber(ARGV[7]), -1) end
if length == 1 or ARGV[8] == '1' then expire(log, ARGV[5]) end
if ARGV[8] == '1' then
    redis.call('HSET', session, 'active', string.sub(ARGV[6], 1, -4)) -- ms
    expire(session, ARGV[5])
end
redis.call('PUBLISH', ARGV[1], envelope)
return {'ok', seq, version}
