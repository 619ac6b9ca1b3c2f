-- Take the best call a call-taker may take, and hold it as offered.
-- KEYS: calls, index, the order of every configured class (by slot), then every bucket whose
--       requirements the call-taker meets
-- ARGV: index version, now, the pop's shape (see pop_shape): the classes, then the sources: 3
--       bytes each (class slot, then the KEYS index of the zset to read, big-endian), by rank
-- Returns the record (offered now) | 'empty' | 'stale': one string, not a table (a batch's
-- answer turns each table into a reply element by element; a string costs one)
--
-- A source is either a class's order, when the call-taker may take every bucket of that class
-- (its calls are then all theirs, and one zset covers them), or one eligible bucket. Inside a
-- source the best call of each priority is its oldest, and the head is its best priority's
-- oldest; a worse priority can only win through aging, so after the head only the priorities
-- whose most-aged effective priority could tie or beat the best so far are read.
-- (Written with plain locals rather than helpers: this is the hottest script.)
if stale(KEYS[2], ARGV[1]) then return 'stale' end
local now = number(ARGV[2])
local shape = pop_shape(ARGV[3])
local cls, src = shape[1], shape[2]
local first = 3 + #cls
-- the best so far: rank, effective priority, arrival, member, class slot
local b_rank, b_eff, b_a, b_m, b_slot
for pos = 1, #src, 3 do
  local s, i = sunpack('>BH', src, pos)
  local c = cls[s]
  local rank = c[1]
  if b_rank ~= nil and rank > b_rank then break end
  local age, L, floor, most = c[2], c[3], c[4], c[6]
  local key = KEYS[i]
  local m = zhead(key)
  while m do
    local p = sbyte(m, 1) - 48
    local a = sunpack('>d', m, 2)
    local eff = p
    if L > 0 then
      local lv = 0
      for k = 1, L do
        if a <= now - k * age then lv = k else break end
      end
      eff = mmax(mmin(p, floor), p - lv)
    end
    -- members of equal arrival compare by their seq (bytes 10-24), as numbers: Lua compares
    -- strings with strcoll
    if b_rank == nil or rank < b_rank or eff < b_eff or (eff == b_eff and (a < b_a or
        (a == b_a and tonumber(ssub(m, 10, 24)) < tonumber(ssub(b_m, 10, 24))))) then
      b_rank, b_eff, b_a, b_m, b_slot = rank, eff, a, m, s
    end
    m = nil
    p = p + 1
    while p <= 9 and most[p] <= b_eff do
      m = zhead_in(key, p)
      if m then break end
      p = p + 1
    end
  end
end
if b_rank == nil then return 'empty' end
local id = ssub(b_m, 26)
local raw = rcall('HGET', KEYS[1], id)
-- The record's attempts, callback flag and bucket key (fields 2, 3 and 8; states, flags and
-- priorities are one character), found with plain searches: a pattern costs several times more.
local t2 = sfind(raw, '\t', 3, true)
local t5 = sfind(raw, '\t', t2 + 5, true)
local t7 = sfind(raw, '\t', sfind(raw, '\t', t5 + 1, true) + 1, true)
local t8 = sfind(raw, '\t', t7 + 1, true)
local b = find_key(KEYS, ssub(raw, t7 + 1, t8 - 1), first, #KEYS)
if b == nil then return 'stale' end
zrem(KEYS[b], b_m)
zrem(KEYS[2 + b_slot], b_m)
raw = 'o\t' .. plus_one(ssub(raw, 3, t2 - 1)) .. ssub(raw, t2)
rcall('HSET', KEYS[1], id, raw)
return raw
