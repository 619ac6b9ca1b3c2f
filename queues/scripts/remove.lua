-- Forget a call (the caller hung up), waiting or offered.
-- KEYS: calls, the order of every class (configured or found in the index), every bucket known
--       to the caller
-- ARGV: call id, the classes of the orders (space separated)
-- Returns {'ok', record} | {'missing'} | {'stale'}
local id = ARGV[1]
local raw = rcall('HGET', KEYS[1], id)
if not raw then return {'missing'} end
local e = record(raw)
if e.st == 'w' then
  local c = find_word(ARGV[2], e.c)
  local C = 0
  for _ in string.gmatch(ARGV[2], '%S+') do C = C + 1 end
  local first = 2 + C
  local b = find_key(KEYS, e.b, first, #KEYS)
  if c == nil or b == nil then return {'stale'} end
  local m = member(e.pc, tonumber(e.a), e.s, id)
  zrem(KEYS[b], m)
  zrem(KEYS[1 + c], m)
end
rcall('HDEL', KEYS[1], id)
return {'ok', raw}
