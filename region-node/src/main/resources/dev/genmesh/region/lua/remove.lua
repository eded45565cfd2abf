-- Forgets a request that ended (cancelled): out of its queue, the delayed set, meta, and its lease.
-- ARGV: 1 prefix, 2 id, 3 tier. Answers 1 if it was waiting in a queue or the delayed set.
local P, id = ARGV[1], ARGV[2]
local removed = redis.call('ZREM', P .. 'queue:' .. ARGV[3], id) + redis.call('ZREM', P .. 'delayed', id)
redis.call('HDEL', P .. 'meta', id)
redis.call('DEL', P .. 'lease:' .. id)
return removed
