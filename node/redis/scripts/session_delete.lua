-- session_delete: DELETE /api/sessions/:id. Tells every node holding members
-- (they send the dialect's notice and close those sockets), then removes the
-- session's keys and index entries.
--
-- KEYS[1]  session hash     KEYS[2]  session log
-- KEYS[3]  sessions zset    KEYS[4]  online hash (untouched here: each node
--          holding members decrements it as it lets the session go, so a
--          session recreated at once under the same id keeps its count right)
-- ARGV[1]  channel          ARGV[2]  end envelope
-- ARGV[3]  kind:id (the index member)
--
-- Returns 1 when the session existed, 0 otherwise.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[1], ARGV[2])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[3])
return 1
