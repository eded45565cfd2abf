-- Takes a waiting request out of its tier queue or the delayed set (and its meta), so that it can
-- be queued again with other routing data (a circuit-breaker fallback). Leaves any lease alone: an
-- id that a claim holds right now is not waiting, and is not taken.
-- ARGV: 1 prefix, 2 id, 3 tier. Answers 1 if it was waiting, else 0.
local P, id = ARGV[1], ARGV[2]
local removed = redis.call('ZREM', P .. 'queue:' .. ARGV[3], id) + redis.call('ZREM', P .. 'delayed', id)
if removed > 0 then redis.call('HDEL', P .. 'meta', id) end
return removed
