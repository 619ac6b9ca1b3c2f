-- Helpers shared by the queue scripts (Redis Lua has no require). Each block starts with a
-- "-- lib: <name>" line; queues/scripts.py puts in front of a script the blocks it uses (and
-- the blocks those use), since every function defined costs time on every call.
--
-- A call is one field of the calls hash, a tab-separated record (no cjson: cheaper, and every
-- number stays the exact text the client sent):
--     state ('w' waiting | 'o' offered), attempts, callback (0|1), priority, arrival, seq
--     (15 digits; older records hold it unpadded), class, bucket key, JSON {"id", "r"
--     requirements, "d" data}
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
--
-- Written for the Lua interpreter's costs, which are most of a script's time: numbers passed to
-- redis.call are given as strings (a number argument goes through sprintf), what is the same
-- for every call of a chunk (class descriptions, the calls ahead of a priority) is computed once
-- per script call, and no table is built where locals do.

-- lib: api
-- The library functions the scripts call most, as locals: a global's lookup is two table reads
-- on every call.
local rcall = redis.call
local sbyte, ssub, sfind, sformat, smatch = string.byte, string.sub, string.find, string.format,
  string.match
local spack, sunpack = struct.pack, struct.unpack
local mmax, mmin, tonumber = math.max, math.min, tonumber

-- lib: P
-- The priority byte of member p, and the bounds of its range for ZRANGEBYLEX/ZLEXCOUNT.
local PB, LOW, BELOW = {}, {}, {}
for p = 0, 10 do
  PB[p] = string.char(48 + p)
  LOW[p] = '[' .. PB[p]
  BELOW[p] = '(' .. PB[p]
end
local function P(p)
  return PB[p]
end

-- lib: zsets
-- The sorted-set reads and writes of the operations a batch may hold. Within one chunk of a
-- batch (batch.lua calls zsets_remembered), the heads and sizes read are remembered and every
-- write through zadd and zrem keeps them true, so consecutive operations do not read them
-- again (a pop mostly finds the other classes' heads as the previous pop left them). Nothing
-- else writes these keys while a script runs. Outside a batch they are plain calls.
local HEADS, PHEADS, CARDS  -- per key: its first member, the first of each priority, its size

local function zsets_remembered()
  HEADS, PHEADS, CARDS = {}, {}, {}
end

-- Whether member x sorts before member y, or nil when their priority, arrival and seq are
-- equal. Lua compares strings with strcoll (the locale's order), never with the bytes' order,
-- so the fields are compared as numbers.
local function member_before(x, y)
  local px, py = sbyte(x, 1), sbyte(y, 1)
  if px ~= py then return px < py end
  local ax, ay = sunpack('>d', x, 2), sunpack('>d', y, 2)
  if ax ~= ay then return ax < ay end
  local sx, sy = tonumber(ssub(x, 10, 24)), tonumber(ssub(y, 10, 24))
  if sx ~= sy then return sx < sy end
  return nil
end

-- A remembered first member after m was added: m when it comes first, unknown when undecided.
local function first_after_add(h, m)
  if h == nil then return nil end
  if h == false then return m end
  local b = member_before(m, h)
  if b == nil then return nil end
  return b and m or h
end

local function zadd(key, m)
  local added = rcall('ZADD', key, '0', m)
  if HEADS ~= nil and added == 1 then
    HEADS[key] = first_after_add(HEADS[key], m)
    local ph = PHEADS[key]
    if ph ~= nil then
      local p = sbyte(m, 1) - 48
      ph[p] = first_after_add(ph[p], m)
    end
    local n = CARDS[key]
    if n ~= nil then CARDS[key] = n + 1 end
  end
  return added
end

local function zrem(key, m)
  local removed = rcall('ZREM', key, m)
  if HEADS ~= nil and removed == 1 then
    if HEADS[key] == m then HEADS[key] = nil end
    local ph = PHEADS[key]
    if ph ~= nil then
      local p = sbyte(m, 1) - 48
      if ph[p] == m then ph[p] = nil end
    end
    local n = CARDS[key]
    if n ~= nil then CARDS[key] = n - 1 end
  end
  return removed
end

-- The first member of a sorted set, or nil when it is empty.
local function zhead(key)
  if HEADS == nil then return rcall('ZRANGE', key, '0', '0')[1] end
  local h = HEADS[key]
  if h == nil then
    h = rcall('ZRANGE', key, '0', '0')[1] or false
    HEADS[key] = h
  end
  return h or nil
end

-- The first member of priority p (the oldest), or nil when there is none.
local function zhead_in(key, p)
  if HEADS == nil then
    return rcall('ZRANGEBYLEX', key, LOW[p], BELOW[p + 1], 'LIMIT', '0', '1')[1]
  end
  local ph = PHEADS[key]
  if ph == nil then
    ph = {}
    PHEADS[key] = ph  -- zadd and zrem keep the priorities of a key they find here
  end
  local h = ph[p]
  if h == nil then
    h = rcall('ZRANGEBYLEX', key, LOW[p], BELOW[p + 1], 'LIMIT', '0', '1')[1] or false
    ph[p] = h
  end
  return h or nil
end

local function zcard(key)
  if HEADS == nil then return rcall('ZCARD', key) end
  local n = CARDS[key]
  if n == nil then
    n = rcall('ZCARD', key)
    CARDS[key] = n
  end
  return n
end

-- lib: record
local RECORD = '^(%a)\t(%d+)\t(%d)\t(%d)\t([^\t]+)\t(%d+)\t([^\t]+)\t([^\t]+)\t'

-- The fields of a record: st, n (attempts), cb, p (number), pc (its digit), a (arrival text),
-- s (seq, 15 digits), c (class), b (bucket key).
local function record(raw)
  local st, n, cb, pc, a, s, c, b = smatch(raw, RECORD)
  if #s ~= 15 then s = sformat('%015d', tonumber(s)) end
  return {st = st, n = n, cb = cb, p = tonumber(pc), pc = pc, a = a, s = s, c = c, b = b}
end

-- lib: rewrite
-- The record with a new state, attempts count and callback flag.
local function rewrite(raw, st, n, cb)
  return st .. '\t' .. n .. '\t' .. cb .. ssub(raw, smatch(raw, '^%a\t%d+\t%d()'))
end

-- lib: member
-- pc: the priority digit, seq: 15 digits.
local function member(pc, arrival, seq, id)
  return pc .. spack('>d', arrival) .. seq .. ':' .. id
end

-- lib: memo
-- f, remembered per argument for the rest of the script call (a chunk of a batch sends the
-- same descriptions with many operations: each is read once).
local function memo(f)
  local seen = {}
  return function(x)
    local v = seen[x]
    if v == nil then
      v = f(x)
      seen[x] = v
    end
    return v
  end
end

-- lib: number
-- tonumber, remembered: the operations of a batch chunk mostly send the same time (a push and
-- the pop after it), and Lua 5.1 parses a string twice on each tonumber.
local number = memo(tonumber)

-- lib: classes
-- The classes blob: per class 4 big-endian doubles (rank, aging seconds, aging levels, floor),
-- read with one struct.unpack each. A class is {rank, age, L, floor, slot, most}, where most[p]
-- is the best effective priority a call of priority p can reach by aging.
local classes = memo(function(blob)
  local out = {}
  for i = 1, #blob / 32 do
    local rank, age, L, floor = sunpack('>dddd', blob, (i - 1) * 32 + 1)
    if age <= 0 then L = 0 end
    local most = {}
    for p = 1, 9 do most[p] = mmax(mmin(p, floor), p - L) end
    out[i] = {rank, age, L, floor, i, most}
  end
  return out
end)

-- lib: push_shape
-- What every push of one (class, requirement set, position wanted) sends alike, "class \t max
-- size ('' = none) \t position wanted (1|0) \t number of better-ranked orders \t class slot",
-- then when a position is wanted "\t slots of the same-rank orders \t classes":
-- {class, max size or nil, position wanted, better, slot, slots, classes}.
local push_shape = memo(function(text)
  local class, max_size, want, better, own, rest = smatch(text,
    '^([^\t]+)\t(%d*)\t([01])\t(%d+)\t(%d+)(.*)$')
  local shape = {class, tonumber(max_size), want == '1', tonumber(better), tonumber(own)}
  if shape[3] then
    local slots, blob = smatch(rest, '^\t([^\t]*)\t(.*)$')
    shape[6], shape[7] = slots, classes(blob)
  end
  return shape
end)

-- lib: pop_shape
-- What every pop of one call-taker's skills sends alike on one index: the number of classes
-- (one byte), the classes, the sources (pop.lua): {classes, sources}.
local pop_shape = memo(function(text)
  local n = sbyte(text, 1)
  return {classes(ssub(text, 2, 1 + 32 * n)), ssub(text, 2 + 32 * n)}
end)

-- lib: plus_one
-- A count in text (attempts) plus one (a number turned into text goes through sprintf).
local plus_one = memo(function(n)
  return tostring(tonumber(n) + 1)
end)

-- lib: slot
local function slot(slots, j)
  return sbyte(slots, j) - 48
end

-- lib: stale
-- The index version, read once per script call: within one call only push and push_front
-- change it, and they keep VERSION current (set_version).
local VERSION

local function index_version(index_key)
  if VERSION == nil then VERSION = rcall('HGET', index_key, 'version') or '0' end
  return VERSION
end

local function set_version(index_key, v)
  rcall('HSET', index_key, 'version', v)
  VERSION = v
end

-- The version check: the caller computed its bucket list from index version `v`; if the index
-- changed since, a bucket may be missing from KEYS and the answer could be wrong.
local function stale(index_key, v)
  return index_version(index_key) ~= v
end

-- lib: next_version
-- The version after adding bucket `key` to the index at version `v`: "<count>:<digest of the
-- history>". A client that predicts the version its own push will produce (a pipeline does)
-- can then never mistake another process's addition for its own (index.py, next_version).
local function next_version(v, key)
  local n = tonumber(smatch(v, '^(%d+)')) or 0
  return (n + 1) .. ':' .. ssub(redis.sha1hex(v .. '\n' .. key), 1, 16)
end

-- lib: register
-- Register a push's bucket in the index (push.lua and push_front.lua: their KEYS and ARGV),
-- unless the client planned with it at the current version (buckets are only ever added).
-- Returns the index versions before and after.
local function register(keys, argv)
  local before, after = argv[1], argv[1]
  if not (argv[8] == '1' and index_version(keys[2]) == argv[1])
      and rcall('HSETNX', keys[2], keys[4], argv[7]) == 1 then
    before = index_version(keys[2])
    after = next_version(before, keys[4])
    set_version(keys[2], after)
  end
  return before, after
end

-- lib: push_answer
-- A push's answer (push.lua, push_front.lua): one tab-separated string.
local function push_answer(word, pos, before, after, rest)
  return word .. '\t' .. pos .. '\t' .. before .. '\t' .. after .. '\t' .. rest
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
  return mmax(mmin(p, floor), p - lv)
end

-- lib: ahead_in
-- Calls of one ordered zset (a bucket, or a class's order; class `cls`) served before a target
-- of the same rank whose key is (e_t, a_t, seq; seq as 15 digits). Priorities below e_t are all
-- ahead (aging only lowers the number). Within a priority p >= e_t, older calls have aged at
-- least as much, so the calls ahead are a prefix in (arrival, seq) order: the longer of
-- {effective < e_t} and {effective <= e_t} cut at the target. Prefix counts being monotone,
-- that is the count up to one cut, sent as one ZLEXCOUNT per priority (the first one also
-- counting the priorities below e_t).
--
-- Which aging levels matter at each priority depends only on the class and e_t: that list is
-- computed once per script call. Each step is {p, k_le, k_lt}: the fewest levels that bring p
-- to <= e_t, and to < e_t (0: never).
local steps_of = memo(function(cls)
  return memo(function(e_t)
    local steps = {}
    local L, floor = cls[3], cls[4]
    for p = e_t, 9 do
      if cls[6][p] > e_t then break end
      local k_le, k_lt = nil, 0
      for k = 0, L do
        local e = effective(p, floor, k)
        if k_le == nil and e <= e_t then k_le = k end
        if e < e_t then k_lt = k; break end
      end
      steps[#steps + 1] = {p, k_le, k_lt}
    end
    return steps
  end)
end)

-- The cut is one of: none of the priority (kind 0), the calls that aged to arrival <= t (kind
-- 1), the calls before the target (kind 2). A cut of "all of the priority" cannot occur: the
-- target bounds the first cut and every k_lt is >= 1. `m_t`: the target's member, when `key`
-- holds it and its priority digit is e_t (it has not aged).
local function ahead_in(key, cls, now, e_t, a_t, seq, m_t)
  local age = cls[2]
  local n, lo = 0, '-'
  local steps = steps_of(cls)(e_t)
  for i = 1, #steps do
    local step = steps[i]
    local p, k_le, k_lt = step[1], step[2], step[3]
    local kind, t = 2, a_t
    if k_le > 0 then  -- min(target, aged(k_le))
      local at = now - k_le * age
      if at <= 0 then kind = 0 elseif at < a_t then kind, t = 1, at end
    end
    if k_lt > 0 then  -- max(cut, aged(k_lt))
      local at = now - k_lt * age
      if at > 0 and (kind == 0 or (kind == 1 and at > t) or (kind == 2 and a_t <= at)) then
        kind, t = 1, at
      end
    end
    if i == 1 and kind == 2 and m_t then
      -- everything before the target in this zset: its rank (one walk of the skiplist, where
      -- ZLEXCOUNT takes four)
      n = rcall('ZRANK', key, m_t)
    elseif lo == '-' or kind ~= 0 then
      local hi
      if kind == 2 then
        hi = BELOW[p] .. spack('>d', a_t) .. seq
      elseif kind == 1 then
        hi = BELOW[p] .. spack('>d', t) .. '\255'
      else
        hi = BELOW[p]
      end
      n = n + rcall('ZLEXCOUNT', key, lo, hi)
    end
    lo = LOW[p + 1]
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
