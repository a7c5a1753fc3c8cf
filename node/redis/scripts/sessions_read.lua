-- sessions_read: sessions for the admin API (GET /api/sessions[/:id]).
-- Not on any message path: it walks the session index, which is bounded by
-- the sessions active within SESSION_TTL.
--
-- KEYS[1]  sessions zset    <prefix>sessions (kind:id -> last activity ms)
-- ARGV[1]  session key prefix  <prefix>session:
-- ARGV[2]  node key prefix     <prefix>node:
-- ARGV[3]  id, or "" for the sessions of the index, most recently active first
-- ARGV[4]  at most this many sessions (the listing's page; bounds the script)
-- ARGV[5..] kinds to look the id up in (when ARGV[3] is given)
--
-- Returns an array of {kind, id, HGETALL...}; a holder on a node that is no
-- longer alive (see session_join) reads as '' (offline).
local function online(holder)
    local node, boot = string.match(holder, '^([^/]+)/([^/]+)/')
    return node ~= nil and redis.call('HGET', ARGV[2] .. node, 'boot') == boot
end

local function read(kind, id)
    local fields = redis.call('HGETALL', ARGV[1] .. kind .. ':{' .. id .. '}')
    if #fields == 0 then return nil end
    local entry = {kind, id}
    for i = 1, #fields, 2 do
        local value = fields[i + 1]
        if string.sub(fields[i], 1, 2) == 'm:' and value ~= '' and not online(value) then
            value = ''
        end
        entry[#entry + 1] = fields[i]
        entry[#entry + 1] = value
    end
    return entry
end

local result = {}
if ARGV[3] ~= '' then
    for i = 5, #ARGV do
        local entry = read(ARGV[i], ARGV[3])
        if entry then result[#result + 1] = entry end
    end
    return result
end
for _, name in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)) do
    local kind, id = string.match(name, '^([^:]+):(.*)$')
    local entry = kind and read(kind, id)
    if entry then result[#result + 1] = entry end
end
return result
