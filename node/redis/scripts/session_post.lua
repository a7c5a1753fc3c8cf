-- session_post: a server-side post into a session. The message is sequenced,
-- retained and published exactly like a member's (session_publish), but it
-- comes from the node on behalf of someone who is not a member of that
-- session, so no holder is checked. Used to deliver into a user's "inbox"
-- session (peersync) from another user's connection, on any node.
--
-- Routed form: the target id is read from a record first (field ARGV[3] of
-- the hash KEYS[1]), in the same atomic step; a record lacking the field
-- means the poster may not post there.
--
-- KEYS[1]  the target session hash, or (routed) the record naming the target
-- ARGV[1]  target session key prefix   "<prefix>session:<kind>:"
-- ARGV[2]  target channel prefix       "<prefix>chan:<kind>:"
-- ARGV[3]  route field ("" posts to KEYS[1] itself)
-- ARGV[4]  target id (when not routed)
-- ARGV[5]  from             ARGV[6]  to ("*", "@" or a member)
-- ARGV[7]  ttl (s)          ARGV[8]  now (microseconds: the envelope's time)
-- ARGV[9]  history size
-- ARGV[10] touch interval (ms): TTLs are refreshed when the 'active' field is
--          older than that, so a busy session costs no write per message for it
-- ARGV[11] seq position: the seq is written after frame part number N (0: not)
-- ARGV[12..] frame parts
--
-- Routed targets build their keys here (standalone Redis, like sessions_read).
-- Returns {status, seq, target id}: ok | gone (no such target session) |
-- noroute (no record) | norecipient (the record lacks the field).
local now_ms, interval = string.sub(ARGV[8], 1, -4), tonumber(ARGV[10])
local now = tonumber(now_ms)
local session, id = KEYS[1], ARGV[4]

local function touch(key, extra)
    if now - tonumber(redis.call('HGET', key, 'active') or '0') >= interval then
        redis.call('HSET', key, 'active', now_ms)
        redis.call('EXPIRE', key, ARGV[7])
        if extra then redis.call('EXPIRE', extra, ARGV[7]) end
    end
end

if ARGV[3] ~= '' then
    if redis.call('EXISTS', KEYS[1]) == 0 then return {'noroute', 0, ''} end
    id = redis.call('HGET', KEYS[1], ARGV[3])
    if not id then return {'norecipient', 0, ''} end
    touch(KEYS[1])
    session = ARGV[1] .. '{' .. id .. '}'
end
if redis.call('EXISTS', session) == 0 then return {'gone', 0, id} end
local log, channel = session .. ':log', ARGV[2] .. '{' .. id .. '}'

local seq = redis.call('HINCRBY', session, 'seq', 1)
local parts = {'m ', ARGV[8], '\n', seq, '\n', ARGV[5], '\n', ARGV[6], '\n'}
local at = tonumber(ARGV[11])
for i = 12, #ARGV do
    parts[#parts + 1] = ARGV[i]
    if i - 11 == at then parts[#parts + 1] = seq end
end
local envelope = table.concat(parts)
local length = redis.call('RPUSH', log, envelope)
if length > tonumber(ARGV[9]) then redis.call('LTRIM', log, -tonumber(ARGV[9]), -1) end
if length == 1 then redis.call('EXPIRE', log, ARGV[7]) end
touch(session, log)
redis.call('PUBLISH', channel, envelope)
return {'ok', seq, id}
