-- Shared by the queue scripts (the loader prepends it). Keys hang off the prefix P:
--   queue:<tier>  ZSET id -> start tag (start-time fair queueing) minus priority
--   delayed       ZSET id -> ms when a retried request may run again
--   meta          HASH id -> JSON routing data of a waiting request (t tier, u user, p priority,
--                 m model, c request class, v VRAM estimate, mv larger_vram minimum, x excluded
--                 workers, b batch key, n batch_size, r ms it became claimable)
--   vtime:<tier>  the tier's virtual time (highest start tag dispatched)
--   finish:<tier> HASH user -> the user's next start tag
local function num(value, default)
  if value == false or value == nil then return default end
  return tonumber(value)
end

-- Start tag S = max(V, F_user); F_user = S + 1. A priority boost moves S earlier. Equal scores
-- order by member, and ids are time-ordered, so ties go to the older request.
local function place(P, id, m, now)
  local v = num(redis.call('GET', P .. 'vtime:' .. m.t), 0)
  local fk = P .. 'finish:' .. m.t
  local s = math.max(v, num(redis.call('HGET', fk, m.u), 0))
  redis.call('HSET', fk, m.u, s + 1)
  local score = s - (m.p or 0)
  m.r = now
  redis.call('ZADD', P .. 'queue:' .. m.t, score, id)
  redis.call('HSET', P .. 'meta', id, cjson.encode(m))
  return score
end

-- Moves delayed ids that are due into their tier queues. An id without meta (keys lost) is
-- dropped and counted: the caller asks for a rebuild, which re-queues it from the log.
local function promote(P, now, limit)
  local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'LIMIT', 0, limit)
  local moved, orphans = 0, 0
  for _, id in ipairs(due) do
    redis.call('ZREM', P .. 'delayed', id)
    local raw = redis.call('HGET', P .. 'meta', id)
    if raw then
      place(P, id, cjson.decode(raw), now)
      moved = moved + 1
    else
      orphans = orphans + 1
    end
  end
  return moved, orphans
end
