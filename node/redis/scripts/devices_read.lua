-- devices_read: a device-sync user's devices for GET /api/devices, online
-- ones first, then most recently seen first, each with whether it is online
-- now: held in the
-- user's session by a connection on a live node (as session_join decides).
--
-- KEYS[1]  devices hash     <prefix>devices:{<user id>}
-- KEYS[2]  session hash     <prefix>session:devicesync:{<user id>}
-- ARGV[1]  live nodes       "|<node>/<boot>|...|" (as in session_join)
--
-- Returns a flat list: id, deviceInfo, first seen, last seen, online (1/0), ...
local fields = redis.call('HGETALL', KEYS[1])
local devices = {}
for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == 'f:' then
        local id = string.sub(fields[i], 3)
        local holder = redis.call('HGET', KEYS[2], 'm:' .. id) or ''
        local process = string.match(holder, '^([^/]+/[^/]+)/')
        local online = process ~= nil and string.find(ARGV[1], '|' .. process .. '|', 1, true) ~= nil
        devices[#devices + 1] = {
            id, redis.call('HGET', KEYS[1], 'i:' .. id) or '{}', fields[i + 1],
            redis.call('HGET', KEYS[1], 'l:' .. id) or fields[i + 1], online and 1 or 0,
        }
    end
end
-- online devices first (they are seen now), then by last seen
table.sort(devices, function(a, b)
    if a[5] ~= b[5] then return a[5] > b[5] end
    return tonumber(a[4]) > tonumber(b[4])
end)
local reply = {}
for _, d in ipairs(devices) do
    for _, v in ipairs(d) do reply[#reply + 1] = v end
end
return reply
