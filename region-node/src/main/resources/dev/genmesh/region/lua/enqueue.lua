-- Queues requests that are not queued yet (a no-op for ids already in a queue or delayed).
-- ARGV: 1 prefix, 2 now ms, then per request: id, not-before ms, meta JSON. Meta field d = 1
-- (a retry) first deletes the id's stale lease, or the next claim would take it for running.
local P, now = ARGV[1], tonumber(ARGV[2])
local added = 0
for i = 3, #ARGV, 3 do
  local id, notBefore, m = ARGV[i], tonumber(ARGV[i + 1]), cjson.decode(ARGV[i + 2])
  if m.d then
    redis.call('DEL', P .. 'lease:' .. id)
    m.d = nil
  end
  if not redis.call('ZSCORE', P .. 'queue:' .. m.t, id) and not redis.call('ZSCORE', P .. 'delayed', id) then
    if notBefore > now then
      redis.call('ZADD', P .. 'delayed', notBefore, id)
      redis.call('HSET', P .. 'meta', id, cjson.encode(m))
    else
      place(P, id, m, now)
    end
    added = added + 1
  end
end
return added
