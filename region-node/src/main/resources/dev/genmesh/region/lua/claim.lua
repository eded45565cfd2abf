-- Picks and leases the next request for one worker, atomically.
-- ARGV: 1 prefix, 2 now ms, 3 worker JSON {w: id, vram: free MB (0 unknown), classes: request
-- classes its GPU may serve (absent: any), models: models it runs ([] any), pref: models it holds,
-- skip: ids to pass over, batch: only ids with this batch key (absent: any), room: their max
-- images}, 4 lease ms, 5 relax share in millionths, 6 routing hold ms, 7 window,
-- 8 dispatch log length.
-- Tiers go turbo, fast, relax, except that relax earns share per dispatch while it has work (the
-- credit is 0 while relax is empty) and goes first once it holds one whole dispatch. Answers {id, tier, score, meta, via, orphans}, or
-- {'', orphans} when nothing fits. Only relax is counted up front (its share needs it); a tier the
-- claim looks into is counted by the look itself, so the dispatch log has the depth of every tier
-- before the one dispatched from, of that one and of relax.
local P, now = ARGV[1], tonumber(ARGV[2])
local wk = cjson.decode(ARGV[3])
local leaseMs, share, hold = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local window, logLen = tonumber(ARGV[7]), tonumber(ARGV[8])
local ONE = 1000000
local PREFERENCE_WINDOW = 8
local TIERS = {'turbo', 'fast', 'relax'}

local function set(list)
  local s = {}
  if type(list) == 'table' then for _, v in ipairs(list) do s[v] = true end end
  return s
end
local classes = type(wk.classes) == 'table' and set(wk.classes) or nil
local anyModel = type(wk.models) ~= 'table' or #wk.models == 0
local models, pref, skip = set(wk.models), set(wk.pref), set(wk.skip)
local vram = tonumber(wk.vram) or 0

local _, orphans = promote(P, now, 100)

local batch, room = wk.batch, tonumber(wk.room) or 0

local function fits(m)
  if batch ~= nil then -- joining a batch: only the same key, within the room left
    if m == nil or m.b ~= batch or (tonumber(m.n) or 1) > room then return false end
  end
  if m == nil then return true end -- no meta: the request log decides
  if not anyModel and not models[m.m] then return false end
  if now - (m.r or 0) >= hold then return true end -- waited long enough: preferences lapse
  if classes and type(m.c) == 'string' and not classes[m.c] then return false end
  if vram > 0 and tonumber(m.v) and m.v > vram then return false end
  if tonumber(m.mv) and m.mv > 0 and not (vram > m.mv) then return false end
  if type(m.x) == 'table' then
    for _, w in ipairs(m.x) do if w == wk.w then return false end end
  end
  return true
end

-- The first id that fits, or a later one (among the next few that fit) whose model it holds; and how
-- many ids the look saw (the tier's depth when under the window).
local function choose(q)
  local entries = redis.call('ZRANGE', q, 0, window - 1, 'WITHSCORES')
  local n = #entries / 2
  local first, seen = nil, 0
  for j = 1, #entries, 2 do
    local id = entries[j]
    if not skip[id] then
      local raw = redis.call('HGET', P .. 'meta', id)
      local m = raw and cjson.decode(raw) or nil
      if fits(m) then
        if m == nil or pref[m.m] then return id, entries[j + 1], raw or '', n end
        if first == nil then first = {id, entries[j + 1], raw} end
        seen = seen + 1
        if seen >= PREFERENCE_WINDOW then break end
      end
    end
  end
  if first then return first[1], first[2], first[3], n end
  return nil, nil, nil, n
end

local depth = {}
depth[3] = redis.call('ZCARD', P .. 'queue:relax')
local credit = 0
if depth[3] > 0 then credit = math.min(num(redis.call('GET', P .. 'relax_credit'), 0) + share, ONE) end
local order, via = {1, 2, 3}, 'order'
if depth[3] > 0 and credit >= ONE then order, via = {3, 1, 2}, 'relax_share' end

local skipped = {}
for _, k in ipairs(order) do
  if k ~= 3 or depth[3] > 0 then
    local q = P .. 'queue:' .. TIERS[k]
    while true do
      local id, score, raw, n = choose(q)
      if depth[k] == nil then
        depth[k] = n < window and n or redis.call('ZCARD', q)
      end
      if id == nil then break end
      redis.call('ZREM', q, id)
      redis.call('HDEL', P .. 'meta', id)
      if redis.call('SET', P .. 'lease:' .. id, wk.w, 'NX', 'PX', leaseMs) then
        local vk = P .. 'vtime:' .. TIERS[k]
        if tonumber(score) > num(redis.call('GET', vk), -1e308) then redis.call('SET', vk, score) end
        if k == 3 then credit = math.max(0, credit - ONE) elseif via == 'relax_share' then via = 'order' end
        if depth[3] > 0 then redis.call('SET', P .. 'relax_credit', credit) else redis.call('DEL', P .. 'relax_credit') end
        if logLen > 0 then
          local entry = {'id', id, 'tier', TIERS[k], 'via', via}
          for t = 1, 3 do
            if depth[t] ~= nil then
              entry[#entry + 1] = TIERS[t]
              entry[#entry + 1] = depth[t]
            end
          end
          entry[#entry + 1] = 'skipped'
          entry[#entry + 1] = table.concat(skipped, ',')
          entry[#entry + 1] = 'worker'
          entry[#entry + 1] = wk.w
          redis.call('XADD', P .. 'dispatches', 'MAXLEN', '~', logLen, '*', unpack(entry))
        end
        return {id, TIERS[k], score, raw, via, orphans}
      end
      -- Its lease is held: a stale duplicate of a running request. Dropped; look again.
    end
    if depth[k] > 0 then skipped[#skipped + 1] = TIERS[k] end
  end
end
return {'', orphans}
