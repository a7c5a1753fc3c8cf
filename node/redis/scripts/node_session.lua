-- node_session: a node starts or stops holding members of a session. The
-- cluster counts a session as active while at least one live node holds
-- members of it: /health's activeSessions is the size of the online hash.
-- node_heartbeat releases the sets of nodes that died.
--
-- KEYS[1]  node's set       <prefix>node-sessions:<node id>/<boot>
-- KEYS[2]  online hash      <prefix>sessions:online  (kind:id -> nodes holding it)
-- ARGV[1]  kind:id          ARGV[2]  "1" add, "0" remove
-- ARGV[3]  ttl (s): both keys live as long as a session; heartbeats renew them
if ARGV[2] == '1' then
    if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[2], ARGV[1], 1) end
    redis.call('EXPIRE', KEYS[1], ARGV[3])
    redis.call('EXPIRE', KEYS[2], ARGV[3])
elseif redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
    if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
end
return 1
