-- Where a request waits. ARGV: 1 prefix, 2 tier, 3 id, or (4 user, 5 priority) for a request about
-- to be queued (the rank its start tag would get). Answers {rank (-1 if not queued), due ms of a
-- delayed id ('' if not delayed), depth turbo, depth fast, depth relax}.
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
return {rank, due, redis.call('ZCARD', P .. 'queue:turbo'), redis.call('ZCARD', P .. 'queue:fast'),
  redis.call('ZCARD', P .. 'queue:relax')}
