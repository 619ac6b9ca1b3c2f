-- Put a call in line at the front of its class: a caller coming back from a failed transfer,
-- or a 911 call reclassified as 311, must not wait behind calls that came after them.
-- The call gets the best base priority of the class (or its own, if better) and an arrival
-- just before the oldest waiting call of the class, so that no call of the class, aged or not,
-- is ahead of it. Not subject to max size: the caller was already being served.
-- KEYS and ARGV: as push.lua, without a position (position wanted must be 0)
-- Returns as push.lua, with the record in place of the seq
local id, class, p = ARGV[3], push_shape(ARGV[5])[1], tonumber(ARGV[4])
local before, after = register(KEYS, ARGV)  -- even if refused: see push.lua
if rcall('HEXISTS', KEYS[1], id) == 1 then
  return push_answer('duplicate', -1, before, after, '')
end
local arrival = tonumber(ARGV[2])
for d = 1, 9 do
  local first = zhead_in(KEYS[3], d)
  if first then
    if d < p then p = d end
    local a = sunpack('>d', first, 2)
    if a - 0.001 < arrival then arrival = a - 0.001 end
  end
end
local at = sformat('%.17g', arrival)
local seq = sformat('%015d', rcall('INCR', KEYS[5]))
local raw = table.concat({'w', '0', '0', p, at, seq, class, KEYS[4], ARGV[6]}, '\t')
local m = member(P(p), arrival, seq, id)
zadd(KEYS[4], m)
zadd(KEYS[3], m)
rcall('HSET', KEYS[1], id, raw)
return push_answer('queued', -1, before, after, raw)
