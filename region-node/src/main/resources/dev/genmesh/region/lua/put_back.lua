-- Returns a claimed id to its queue with its old score and meta, and gives up this worker's lease.
-- ARGV: 1 prefix, 2 id, 3 tier, 4 score, 5 meta JSON ('' = none), 6 worker id.
local P, id = ARGV[1], ARGV[2]
redis.call('ZADD', P .. 'queue:' .. ARGV[3], 'NX', ARGV[4], id)
if ARGV[5] ~= '' then redis.call('HSET', P .. 'meta', id, ARGV[5]) end
if redis.call('GET', P .. 'lease:' .. id) == ARGV[6] then redis.call('DEL', P .. 'lease:' .. id) end
return 1
