-- session_history: the retained envelopes a connection has not seen yet, one
-- page at a time so a large log never makes one huge reply.
--
-- KEYS[1]  session log
-- ARGV[1]  since: the last seq the connection has
-- ARGV[2]  page size in bytes (at least one envelope is returned)
--
-- Returns {more, envelopes with seq > since, oldest first}; more is 1 when the
-- page was cut short and the caller should ask again.
local since, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
local out, more = {0}, 0
for _, envelope in ipairs(entries) do
    -- the kind line is "m" or "m <time>" (sr_envelope.h)
    local seq = tonumber(string.match(envelope, '^m[^\n]*\n(%d+)\n'))
    if seq and seq > since then
        if #out > 1 and budget < #envelope then
            more = 1
            break
        end
        budget = budget - #envelope
        out[#out + 1] = envelope
    end
end
out[1] = more
return out
