-- sessions_read: one session for the admin API (GET /api/sessions[/:id]).
-- The node sends one call per session it lists (the ids come from the
-- sessions index, read first with ZREVRANGE), so each call stays in the
-- session's own slot.
--
-- KEYS[1]  session hash     <prefix>session:<kind>:{<id>}
-- ARGV[1]  live nodes       "|<node>/<boot>|...|" (as in session_join)
--
-- Returns the session's HGETALL (empty when it is gone); a holder on a node
-- that is no longer alive reads as '' (offline).
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == 'm:' and fields[i + 1] ~= '' then
        local process = string.match(fields[i + 1], '^([^/]+/[^/]+)/')
        if not process or not string.find(ARGV[1], '|' .. process .. '|', 1, true) then
            fields[i + 1] = ''
        end
    end
end
return fields
