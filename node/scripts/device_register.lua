-- device_register: a device of a device-sync user connects. The device keeps
-- the id it asks for when that id is one of this user's devices; otherwise it
-- gets the new id the node drew. A user keeps at most ARGV[5] devices: a new
-- one evicts the device seen least recently. Device records have no TTL.
--
-- KEYS[1]  devices hash     <prefix>devices:{<user id>}, fields per device:
--                           f:<id> first seen (ms), l:<id> last seen (ms),
--                           i:<id> deviceInfo (JSON)
-- ARGV[1]  requested id ("" for none)
-- ARGV[2]  new id           ARGV[3]  deviceInfo JSON
-- ARGV[4]  now (ms)         ARGV[5]  most devices kept per user
--
-- Returns {device id, 1 when it is new else 0}.
local devices = KEYS[1]
local id, new = ARGV[1], 0
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
        redis.call('HDEL', devices, 'f:' .. oldest, 'l:' .. oldest, 'i:' .. oldest)
    end
    redis.call('HSET', devices, 'f:' .. id, ARGV[4])
end
redis.call('HSET', devices, 'l:' .. id, ARGV[4], 'i:' .. id, ARGV[3])
return {id, new}
