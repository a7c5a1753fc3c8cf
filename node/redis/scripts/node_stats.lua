-- node_stats: a node's counters for the dashboard (GET /api/cluster), written
-- after each answered heartbeat into its own liveness record, so they expire
-- with it and never create a record without a TTL.
--
-- KEYS[1]  node hash        <prefix>node:<node id>
-- ARGV[1]  boot id: the record must still be this process's
-- ARGV[2]  the stats, one JSON object (field `stats`)
--
-- Returns 1 written, 0 the record is gone or belongs to another process.
if redis.call('HGET', KEYS[1], 'boot') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'stats', ARGV[2])
return 1
