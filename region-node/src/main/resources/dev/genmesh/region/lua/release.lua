-- Deletes a lease only if this worker holds it. ARGV: 1 prefix, 2 id, 3 worker id.
local key = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', key) == ARGV[3] then return redis.call('DEL', key) end
return 0
