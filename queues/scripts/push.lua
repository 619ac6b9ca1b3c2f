-- Put a call in line.
-- KEYS: calls, index, the class's order, the call's bucket, seq, then when a position is
--       wanted: the order of every better-ranked class, then of every class of the same rank
--       (its own included)
-- ARGV: index version the client planned with, now, call id, priority (one digit), the push's
--       shape (see push_shape), JSON {"id", "r", "d"}, bucket descriptor JSON, whether the
--       bucket is in the client's index at that version (1|0)
-- Returns one string (see pop.lua), tab-separated: 'queued', position or -1, index version
-- before, after, seq (15 digits) | 'full' or 'duplicate', -1, index version before, after, ''
local id, pc = ARGV[3], ARGV[4]
local shape = push_shape(ARGV[5])
local class, max_size = shape[1], shape[2]
-- The bucket is registered even when the call is refused (an empty bucket is harmless): the
-- index then changes exactly as the client predicted, and a batch's later operations, planned
-- against that prediction, do not find it stale.
local before, after = register(KEYS, ARGV)
-- A duplicate is answered before a full class. Without a max size, the record is written with
-- HSETNX, which finds a duplicate too (its seq is then given back: nothing else ran meanwhile).
if max_size then
  if rcall('HEXISTS', KEYS[1], id) == 1 then
    return push_answer('duplicate', -1, before, after, '')
  end
  if zcard(KEYS[3]) >= max_size then return push_answer('full', -1, before, after, '') end
end
local seq = sformat('%015d', rcall('INCR', KEYS[5]))
local record = 'w\t0\t0\t' .. pc .. '\t' .. ARGV[2] .. '\t' .. seq .. '\t' .. class .. '\t' ..
  KEYS[4] .. '\t' .. ARGV[6]
if rcall('HSETNX', KEYS[1], id, record) == 0 then
  rcall('DECR', KEYS[5])
  return push_answer('duplicate', -1, before, after, '')
end
local now = number(ARGV[2])
local m = member(pc, now, seq, id)
zadd(KEYS[4], m)
zadd(KEYS[3], m)
local pos = -1
if shape[3] then
  local slots, cls = shape[6], shape[7]
  local better = shape[4]
  pos = 1
  for i = 6, 5 + better do pos = pos + zcard(KEYS[i]) end
  -- a call that arrives now has not aged: its effective priority is its own
  local e_t = sbyte(pc) - 48
  for j = 1, #slots do
    local s = slot(slots, j)
    pos = pos + ahead_in(KEYS[5 + better + j], cls[s], now, e_t, now, seq,
      s == shape[5] and m or nil)
  end
end
return push_answer('queued', pos, before, after, seq)
