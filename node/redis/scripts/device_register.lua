-- device_register: a device of a device-sync user connects. The device keeps
-- the id it asks for when that id is one of this user's devices. A device
-- that asks for none (the seed's client never does) gets back the record of
-- an offline device of this user with the very same deviceInfo, the most
-- recently seen one, so reconnects of one physical device do not pile up
-- records; otherwise it gets the new id the node drew. A user keeps at most
-- ARGV[5] devices: a new one evicts the device seen least recently. Device
-- records have no TTL.
--
-- A record is offline when no live connection holds it in the user's session
-- (as session_join decides) and nobody claimed it: every register claims the
-- id it hands out (c:<id> = now) until the device is seen leaving (l:<id>
-- later than c:<id>) or ARGV[7] ms passed (by then the claimant has joined,
-- so it shows in the session, or its connection is closed). So two sockets
-- with one deviceInfo connecting at once get two ids.
--
-- KEYS[1]  devices hash     <prefix>devices:{<user id>}, fields per device:
--                           f:<id> first seen (ms), l:<id> last seen (ms),
--                           i:<id> deviceInfo (JSON), c:<id> claimed (ms)
-- KEYS[2]  session hash     <prefix>session:devicesync:{<user id>}
-- ARGV[1]  requested id ("" for none)
-- ARGV[2]  new id           ARGV[3]  deviceInfo JSON
-- ARGV[4]  now (ms)         ARGV[5]  most devices kept per user
-- ARGV[6]  live nodes       "|<node>/<boot>|...|" (as in session_join)
-- ARGV[7]  claim time (ms)  the connect deadline (AUTH_TIMEOUT)
--
-- Returns {device id, 1 when it is new else 0}.
local devices, session = KEYS[1], KEYS[2]
local now = tonumber(ARGV[4])
local id, new = ARGV[1], 0

local function online(device)
    local holder = redis.call('HGET', session, 'm:' .. device) or ''
    local process = string.match(holder, '^([^/]+/[^/]+)/')
    return process ~= nil and string.find(ARGV[6], '|' .. process .. '|', 1, true) ~= nil
end

local function free(device, seen)
    local claimed = tonumber(redis.call('HGET', devices, 'c:' .. device) or '0') or 0
    if claimed >= seen and now - claimed < tonumber(ARGV[7]) then return false end
    return not online(device)
end

if id == '' then
    local fields = redis.call('HGETALL', devices)
    local best, best_seen = nil, nil
    for i = 1, #fields, 2 do
        if string.sub(fields[i], 1, 2) == 'i:' and fields[i + 1] == ARGV[3] then
            local device = string.sub(fields[i], 3)
            local seen = tonumber(redis.call('HGET', devices, 'l:' .. device) or '0') or 0
            if (not best_seen or seen > best_seen) and free(device, seen) then
                best, best_seen = device, seen
            end
        end
    end
    if best then id = best end
end
if id == '' or redis.call('HEXISTS', devices, 'f:' .. id) == 0 then
    id, new = ARGV[2], 1
    local fields = redis.call('HGETALL', devices)
    local count, oldest, oldest_seen = 0, nil, nil
    for i = 1, #fields, 2 do
        if string.sub(fields[i], 1, 2) == 'l:' then
            count = count + 1
            local seen = tonumber(fields[i + 1])
            if not oldest_seen or seen < oldest_seen then
                oldest, oldest_seen = string.sub(fields[i], 3), seen
            end
        end
    end
    if count >= tonumber(ARGV[5]) and oldest then
        redis.call('HDEL', devices, 'f:' .. oldest, 'l:' .. oldest, 'i:' .. oldest,
                   'c:' .. oldest)
    end
    redis.call('HSET', devices, 'f:' .. id, ARGV[4])
end
redis.call('HSET', devices, 'l:' .. id, ARGV[4], 'i:' .. id, ARGV[3], 'c:' .. id, ARGV[4])
return {id, new}
