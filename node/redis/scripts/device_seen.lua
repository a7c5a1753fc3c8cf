-- device_seen: records when a device-sync device was last seen (it
-- disconnected), unless its record was evicted meanwhile.
--
-- KEYS[1]  devices hash     <prefix>devices:{<user id>}
-- ARGV[1]  device id        ARGV[2]  now (ms)
--
-- Returns 1 when recorded, 0 when the device is unknown.
if redis.call('HEXISTS', KEYS[1], 'f:' .. ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'l:' .. ARGV[1], ARGV[2])
return 1
