-- Moves due delayed ids into their queues. ARGV: 1 prefix, 2 now ms, 3 limit. Answers {moved, orphans}.
local moved, orphans = promote(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
return {moved, orphans}
