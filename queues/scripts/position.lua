-- Position of one waiting call, and optionally what its wait estimate needs.
-- KEYS: calls, index, staffing, then per configured class its arrivals and handle-time keys
--       (2 per class, by slot), then every bucket of a configured class
-- ARGV: index version, now, call id, classes, class names (space separated, by slot),
--       estimate wanted (1|0), slots of the buckets
-- Returns {'ok', position, class, agents, handle samples...} (agents and samples only with an
--         estimate) | {'missing'} (not waiting) | {'unknown'} (class not configured) | {'stale'}
if stale(KEYS[2], ARGV[1]) then return {'stale'} end
local raw = redis.call('HGET', KEYS[1], ARGV[3])
if not raw then return {'missing'} end
local e = record(raw)
if e.st ~= 'w' then return {'missing'} end
local c = find_word(ARGV[5], e.c)
if c == nil then return {'unknown'} end
local cls = classes(ARGV[4])
local slots = ARGV[7]
local first = 4 + 2 * #cls
if find_key(e.b, first, #KEYS) == nil then return {'stale'} end
local now, a_t = tonumber(ARGV[2]), tonumber(e.a)
local mine = cls[c]
local e_t = effective(e.p, mine[4], levels(a_t, now, mine[2], mine[3]))
local pos = 1
for j = 1, #cls do
  if cls[j][1] < mine[1] then pos = pos + redis.call('ZCARD', KEYS[2 + 2 * j]) end
end
for j = 1, #slots do
  local other = cls[slot(slots, j)]
  if other[1] == mine[1] then
    pos = pos + ahead_in_bucket(KEYS[first + j - 1], other, now, e_t, a_t, e.s)
  end
end
local out = {'ok', pos, e.c}
if ARGV[6] == '1' then
  out[4] = redis.call('HGET', KEYS[3], e.c) or '0'
  for _, sample in ipairs(redis.call('LRANGE', KEYS[3 + 2 * c], 0, -1)) do
    out[#out + 1] = sample
  end
end
return out
