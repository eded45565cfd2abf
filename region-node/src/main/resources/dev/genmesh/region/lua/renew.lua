-- Extends the leases this worker holds. ARGV: 1 prefix, 2 worker id, 3 lease ms, then ids.
local renewed = 0
for i = 4, #ARGV do
  local key = ARGV[1] .. 'lease:' .. ARGV[i]
  if redis.call('GET', key) == ARGV[2] then
    redis.call('PEXPIRE', key, ARGV[3])
    renewed = renewed + 1
  end
end
return renewed
