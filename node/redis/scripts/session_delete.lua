-- session_delete: DELETE /api/sessions/:id. Tells every node holding members
-- (they send the dialect's notice and close those sockets), then removes the
-- session's keys. The node removes the session's entry from the sessions
-- index with a ZREM sent right behind this call: the index lives in the node
-- registry's slot, not in the session's. The online hash is untouched: each
-- node holding members decrements it as it lets the session go, so a session
-- recreated at once under the same id keeps its count right.
--
-- KEYS[1]  session hash     KEYS[2]  session log
-- ARGV[1]  channel          ARGV[2]  end envelope
--
-- Returns 1 when the session existed, 0 otherwise.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[1], ARGV[2])
redis.call('DEL', KEYS[1], KEYS[2])
return 1
