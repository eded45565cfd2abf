-- Drops finish tags that no longer matter (F_user <= V: the user gets V anyway), one HSCAN page
-- per call. ARGV: 1 prefix, 2 tier, 3 cursor. Answers the next cursor ('0' when done).
local P, tier = ARGV[1], ARGV[2]
local v = num(redis.call('GET', P .. 'vtime:' .. tier), 0)
local page = redis.call('HSCAN', P .. 'finish:' .. tier, ARGV[3], 'COUNT', 200)
local fields = page[2]
for i = 1, #fields, 2 do
  if tonumber(fields[i + 1]) <= v then redis.call('HDEL', P .. 'finish:' .. tier, fields[i]) end
end
return page[1]
