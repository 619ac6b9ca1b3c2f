-- Helpers shared by the queue scripts (Redis Lua has no require). Each block starts with a
-- "-- lib: <name>" line; queues/scripts.py puts in front of a script the blocks it uses (and
-- the blocks those use), since every function defined costs time on every call.
--
-- A call is one field of the calls hash, a tab-separated record (no cjson: cheaper, and every
-- number stays the exact text the client sent):
--     state ('w' waiting | 'o' offered), attempts, callback (0|1), priority, arrival, seq,
--     class, bucket key, JSON {"id", "r" requirements, "d" data}
--
-- A bucket holds the waiting calls of one (class, requirement set) in a zset whose scores are
-- all 0, so that it is ordered by member bytes (a class's order zset holds all its calls in
-- the same way). A member is
--     priority digit .. arrival as a big-endian IEEE double (8 bytes) .. seq (15 digits) .. ':' .. id
-- Arrivals are > 0, and the big-endian bytes of positive doubles sort like the numbers, so a
-- bucket sorts by (priority, arrival, seq), and "priority p, arrival <= t" or "priority p,
-- (arrival, seq) < (a, s)" are member ranges: ZLEXCOUNT and ZRANGEBYLEX answer them in O(log n)
-- with exact doubles (no decimal rounding anywhere).
--
-- Classes are described by a blob of 4 doubles per configured class (rank, aging seconds, aging
-- levels, aging floor; aging seconds 0 = no aging), in configuration order; a class's place there
-- is its slot. A list of buckets comes with a string of slots, one character (48 + slot) each.

-- lib: record
local RECORD = '^(%a)\t(%d+)\t(%d)\t(%d)\t([^\t]+)\t(%d+)\t([^\t]+)\t([^\t]+)\t'

local function record(raw)
  local st, n, cb, p, a, s, c, b = string.match(raw, RECORD)
  return {st = st, n = tonumber(n), cb = cb, p = tonumber(p), a = a, s = tonumber(s), c = c, b = b}
end

-- lib: rewrite
-- The record with a new state, attempts count and callback flag.
local function rewrite(raw, st, n, cb)
  return st .. '\t' .. n .. '\t' .. cb .. string.match(raw, '^%a\t%d+\t%d(.*)$')
end

-- lib: P
local function P(p)
  return string.char(48 + p)
end

-- lib: member
local function member(p, arrival, seq, id)
  return P(p) .. struct.pack('>d', arrival) .. string.format('%015d', seq) .. ':' .. id
end

-- lib: classes
-- The classes blob: per class 4 big-endian doubles (rank, aging seconds, aging levels, floor),
-- read with one struct.unpack each (parsing text costs more than the rest of a pop).
local function classes(blob)
  local out = {}
  for i = 1, #blob / 32 do
    local rank, age, L, floor = struct.unpack('>dddd', blob, (i - 1) * 32 + 1)
    if age <= 0 then L = 0 end
    out[i] = {rank, age, L, floor, i}
  end
  return out
end

-- lib: slot
local function slot(slots, j)
  return string.byte(slots, j) - 48
end

-- lib: stale
-- The version check: the caller computed its bucket list from index version `v`; if the index
-- changed since, a bucket may be missing from KEYS and the answer could be wrong.
local function stale(index_key, v)
  return (redis.call('HGET', index_key, 'version') or '0') ~= v
end

-- lib: next_version
-- The version after adding bucket `key` to the index at version `v`: "<count>:<digest of the
-- history>". A client that predicts the version its own push will produce (a pipeline does)
-- can then never mistake another process's addition for its own (index.py, next_version).
local function next_version(v, key)
  local n = tonumber(string.match(v, '^(%d+)')) or 0
  return (n + 1) .. ':' .. string.sub(redis.sha1hex(v .. '\n' .. key), 1, 16)
end

-- lib: levels
-- Levels gained by aging: the largest k <= L with arrival <= now - k * age (model.py).
local function levels(arrival, now, age, L)
  local lv = 0
  for k = 1, L do
    if arrival <= now - k * age then lv = k else break end
  end
  return lv
end

-- lib: effective
local function effective(p, floor, lv)
  return math.max(math.min(p, floor), p - lv)
end

-- lib: ahead_in
-- Calls of one ordered zset (a bucket, or a class's order; class `cls`) served before a target
-- of the same rank whose key is
-- (e_t, a_t, s_t). Priorities below e_t are all ahead (aging only lowers the number). Within a
-- priority p >= e_t, older calls have aged at least as much, so the calls ahead are a prefix in
-- (arrival, seq) order: the longer of {effective < e_t} and {effective <= e_t} cut at
-- (a_t, s_t). Prefix counts being monotone, that is the count up to one cut, computed here as
-- numbers ({arrival, seq}: calls strictly before it) and sent as one ZLEXCOUNT per priority
-- (the first one also counting the priorities below e_t).
local ALL, NONE = {math.huge, 0}, {-math.huge, 0}

local function before(x, y)
  return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2])
end

-- The cut of the calls of priority p that aged at least k levels (arrival <= now - k * age).
local function aged_cut(k, now, age, L)
  if k <= 0 then return ALL end
  if k > L then return NONE end
  local t = now - k * age
  if t <= 0 then return NONE end
  return {t, math.huge}
end

local function ahead_in(key, cls, now, e_t, a_t, s_t)
  local age, L, floor = cls[2], cls[3], cls[4]
  local n = 0
  local target = {a_t, s_t}
  local lo = '-'
  for p = e_t, 9 do
    if effective(p, floor, L) > e_t then break end
    local k_lt, k_le
    for k = 0, L do
      local e = effective(p, floor, k)
      if k_le == nil and e <= e_t then k_le = k end
      if e < e_t then k_lt = k; break end
    end
    local cut = aged_cut(k_le, now, age, L)
    if before(target, cut) then cut = target end
    if k_lt ~= nil then
      local lt = aged_cut(k_lt, now, age, L)
      if before(cut, lt) then cut = lt end
    end
    local hi
    if cut == ALL then
      hi = '(' .. P(p + 1)
    elseif cut == NONE then
      hi = '(' .. P(p)
    elseif cut[2] == math.huge then
      hi = '(' .. P(p) .. struct.pack('>d', cut[1]) .. '\255'
    else
      hi = '(' .. P(p) .. struct.pack('>d', cut[1]) .. string.format('%015d', cut[2])
    end
    if lo == '-' or cut ~= NONE then n = n + redis.call('ZLEXCOUNT', key, lo, hi) end
    lo = '[' .. P(p + 1)
  end
  return n
end

-- lib: find_key
-- The index in `keys` (a script's KEYS, within first..last) of the key named `name`, or nil.
local function find_key(keys, name, first, last)
  for i = first, last do
    if keys[i] == name then return i end
  end
  return nil
end

-- lib: find_word
-- The place of `word` in a space-separated list, or nil.
local function find_word(list, word)
  local i = 0
  for w in string.gmatch(list, '%S+') do
    i = i + 1
    if w == word then return i end
  end
  return nil
end
