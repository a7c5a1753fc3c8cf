-- session_history: the retained envelopes a connection has not seen yet.
--
-- KEYS[1]  session log
-- ARGV[1]  since: the last seq the connection has
--
-- Returns the envelopes with seq > since, oldest first.
local since = tonumber(ARGV[1])
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for _, envelope in ipairs(entries) do
    local seq = tonumber(string.match(envelope, '^m\n(%d+)\n'))
    if seq and seq > since then out[#out + 1] = envelope end
end
return out
