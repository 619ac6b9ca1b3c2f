-- Put a call in line.
-- KEYS: calls, index, the class's order, the call's bucket, seq, then when a position is
--       wanted: the order of every better-ranked class, then of every class of the same rank
--       (its own included)
-- ARGV: index version the client planned with, now, "id \t class \t priority \t max size ('' =
--       none) \t position wanted (1|0) \t number of better-ranked orders \t class slot",
--       JSON {"id", "r", "d"}, bucket descriptor JSON, then when a position is wanted: classes,
--       slots of the same-rank orders
-- Returns {'queued', position or -1, index version before, after, seq (15 digits)}
--         | {'full' or 'duplicate', -1, index version before, after}
local id, class, pc, max_size, want, better, own = string.match(ARGV[3],
  '^([^\t]+)\t([^\t]+)\t(%d)\t(%d*)\t(%d)\t(%d+)\t(%d+)$')
-- The bucket is registered even when the call is refused (an empty bucket is harmless): the
-- index then changes exactly as the client predicted, and a batch's later operations, planned
-- against that prediction, do not find it stale.
local before, after = ARGV[1], ARGV[1]
if redis.call('HSETNX', KEYS[2], KEYS[4], ARGV[5]) == 1 then
  before = redis.call('HGET', KEYS[2], 'version') or '0'
  after = next_version(before, KEYS[4])
  redis.call('HSET', KEYS[2], 'version', after)
end
if redis.call('HEXISTS', KEYS[1], id) == 1 then return {'duplicate', -1, before, after} end
if max_size ~= '' and redis.call('ZCARD', KEYS[3]) >= tonumber(max_size) then
  return {'full', -1, before, after}
end
local seq = string.format('%015d', redis.call('INCR', KEYS[5]))
local now = tonumber(ARGV[2])
local m = member(pc, now, seq, id)
redis.call('ZADD', KEYS[4], '0', m)
redis.call('ZADD', KEYS[3], '0', m)
redis.call('HSET', KEYS[1], id, 'w\t0\t0\t' .. pc .. '\t' .. ARGV[2] .. '\t' .. seq .. '\t' ..
  class .. '\t' .. KEYS[4] .. '\t' .. ARGV[4])
local pos = -1
if want == '1' then
  local cls = classes(ARGV[6])
  local slots = ARGV[7]
  better = tonumber(better)
  pos = 1
  for i = 6, 5 + better do pos = pos + redis.call('ZCARD', KEYS[i]) end
  local mine = cls[tonumber(own)]
  local e_t = effective(tonumber(pc), mine[4], levels(now, now, mine[2], mine[3]))
  for j = 1, #slots do
    pos = pos + ahead_in(KEYS[5 + better + j], cls[slot(slots, j)], now, e_t, now, seq)
  end
end
return {'queued', pos, before, after, seq}
