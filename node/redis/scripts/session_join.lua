-- session_join: a connection takes one member of a session, creating the
-- session first when asked. Atomic, so two connections racing for the same
-- member (on any nodes) end with exactly one holder, and the loser is told.
--
-- KEYS[1]  session hash     <prefix>session:<kind>:{<id>}
-- KEYS[2]  session log      <prefix>session:<kind>:{<id>}:log
-- ARGV[1]  kind             ARGV[2]  member
-- ARGV[3]  owner            "<node>/<conn>" of the joining connection
-- ARGV[4]  now (ms)         ARGV[5]  ttl (s, 0: none)
-- ARGV[6]  create           "1": the session must not exist; "0": it must
-- ARGV[7]  channel          ARGV[8]  max members online, "0" for no limit
-- ARGV[9]  joined envelope  published to the others ("" for none)
-- ARGV[10] live nodes       "|<node>/<boot>|...|", the node processes alive at
--                           the calling node's last heartbeat (node_heartbeat).
--                           A holder "<node>/<boot>/<conn>" is online while
--                           its "<node>/<boot>" is in it (a restarted node's old
--                           connections are gone even though its name lives on)
-- ARGV[11] member info      JSON describing the member (a device's name...),
--                           kept as field i:<member> ("" for none)
--
-- Touches only the session's slot: liveness comes in ARGV[10], not from the
-- node registry (another slot); it is up to one heartbeat (2 s) old. Returns {status, previous owner, HGETALL of the
-- session...} with holders on dead nodes shown as '' (offline); status is
-- ok | exists | unknown | full.
-- ttl 0: the keys do not expire (device-sync state with DEVICE_STATE_TTL=0)
local function expire(key, ttl)
    if tonumber(ttl) > 0 then redis.call('EXPIRE', key, ttl) else redis.call('PERSIST', key) end
end
local session, log = KEYS[1], KEYS[2]
local member, owner = 'm:' .. ARGV[2], ARGV[3]
local exists = redis.call('EXISTS', session) == 1
if ARGV[6] == '1' then
    if exists then return {'exists', ''} end
    redis.call('HSET', session, 'kind', ARGV[1], 'created', ARGV[4], 'seq', 0, 'members', 0)
else
    if not exists or redis.call('HGET', session, 'kind') ~= ARGV[1] then
        return {'unknown', ''}
    end
end

local function online(holder)
    local process = string.match(holder, '^([^/]+/[^/]+)/')
    return process ~= nil and string.find(ARGV[10], '|' .. process .. '|', 1, true) ~= nil
end

local previous = redis.call('HGET', session, member)
local limit = tonumber(ARGV[8])
if limit > 0 and not (previous and previous ~= '') then
    local count = 0
    local fields = redis.call('HGETALL', session)
    for i = 1, #fields, 2 do
        if string.sub(fields[i], 1, 2) == 'm:' and online(fields[i + 1]) then count = count + 1 end
    end
    if count >= limit then return {'full', ''} end
end

if not previous then redis.call('HINCRBY', session, 'members', 1) end
-- joins numbers the joins, so a node can tell an old supersede notice from a
-- new one when several connections race for one member
local number = redis.call('HINCRBY', session, 'joins', 1)
redis.call('HSET', session, member, owner, 'active', ARGV[4])
if ARGV[11] ~= '' then redis.call('HSET', session, 'i:' .. ARGV[2], ARGV[11]) end
-- a new member's resume point is now, even if its node dies before recording one
redis.call('HSETNX', session, 'd:' .. ARGV[2], redis.call('HGET', session, 'seq'))
expire(session, ARGV[5])
expire(log, ARGV[5])
if previous and previous ~= '' and previous ~= owner then
    -- nodes close the holders that joined before this one on seeing it
    redis.call('PUBLISH', ARGV[7], 'x\n' .. number .. '\n' .. owner .. '\n' .. ARGV[2] .. '\n')
end
if ARGV[9] ~= '' then redis.call('PUBLISH', ARGV[7], ARGV[9]) end

local reply = {'ok', previous or ''}
local fields = redis.call('HGETALL', session)
for i = 1, #fields, 2 do
    local value = fields[i + 1]
    if string.sub(fields[i], 1, 2) == 'm:' and value ~= owner and not online(value) then
        value = ''
    end
    reply[#reply + 1] = fields[i]
    reply[#reply + 1] = value
end
return reply
