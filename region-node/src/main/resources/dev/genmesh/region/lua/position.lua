-- Where a request waits. ARGV: 1 prefix, 2 tier, 3 id, or (4 user, 5 priority) for a request about
-- to be queued (the rank its start tag would get). Answers {rank (-1 if not queued), due ms of a
-- delayed id ('' if not delayed), depth turbo, depth fast, depth relax}; only the tiers ahead of
-- the request's are counted (what its position needs), the others answer -1.
local P, tier = ARGV[1], ARGV[2]
local rank, due = -1, ''
if ARGV[4] then
  local v = num(redis.call('GET', P .. 'vtime:' .. tier), 0)
  local f = num(redis.call('HGET', P .. 'finish:' .. tier, ARGV[4]), 0)
  rank = redis.call('ZCOUNT', P .. 'queue:' .. tier, '-inf', math.max(v, f) - tonumber(ARGV[5]))
else
  rank = redis.call('ZRANK', P .. 'queue:' .. tier, ARGV[3]) or -1
  due = redis.call('ZSCORE', P .. 'delayed', ARGV[3]) or ''
end
local depths, ahead = {}, true
for _, t in ipairs({'turbo', 'fast', 'relax'}) do
  if t == tier then ahead = false end
  depths[#depths + 1] = ahead and redis.call('ZCARD', P .. 'queue:' .. t) or -1
end
return {rank, due, depths[1], depths[2], depths[3]}
