-- node_sessions_sync: makes a node's set of held sessions (see node_session)
-- equal to what the node really holds, adjusting the cluster's counts. Sent
-- after Redis was unreachable (adds and removes may have been lost) or when
-- the node's record had expired (others may have released its set).
--
-- KEYS[1]  node's set       <prefix>node-sessions:<node id>/<boot>
-- KEYS[2]  online hash      <prefix>sessions:online
-- ARGV[1]  ttl (s)          ARGV[2..] kind:id of every session held now
local held = {}
for i = 2, #ARGV do held[ARGV[i]] = true end
for _, session in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if held[session] then
        held[session] = nil
    else
        redis.call('SREM', KEYS[1], session)
        if redis.call('HINCRBY', KEYS[2], session, -1) <= 0 then redis.call('HDEL', KEYS[2], session) end
    end
end
for session in pairs(held) do
    redis.call('SADD', KEYS[1], session)
    redis.call('HINCRBY', KEYS[2], session, 1)
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return 1
