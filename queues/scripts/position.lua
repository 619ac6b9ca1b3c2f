-- Position of one waiting call, and optionally what its wait estimate needs. Needs no bucket:
-- a call-taker able to take every call sees each class as one order zset.
-- KEYS: calls, staffing, then per configured class (by slot): its order and handle times
-- ARGV: now, call id, classes, class names (space separated, by slot), estimate wanted (1|0)
-- Returns {'ok', position, class, agents, handle samples...} (agents and samples only with an
--         estimate) | {'missing'} (not waiting) | {'unknown'} (class not configured)
local raw = rcall('HGET', KEYS[1], ARGV[2])
if not raw then return {'missing'} end
local e = record(raw)
if e.st ~= 'w' then return {'missing'} end
local c = find_word(ARGV[4], e.c)
if c == nil then return {'unknown'} end
local cls = classes(ARGV[3])
local now, a_t = tonumber(ARGV[1]), tonumber(e.a)
local mine = cls[c]
local e_t = effective(e.p, mine[4], levels(a_t, now, mine[2], mine[3]))
local pos = 1
-- the call's member, in its own class's order (counted by rank there) when it has not aged
local mine_t = e_t == e.p and member(e.pc, a_t, e.s, ARGV[2]) or nil
for j = 1, #cls do
  local m_t = j == c and mine_t or nil
  if cls[j][1] < mine[1] then
    pos = pos + zcard(KEYS[1 + 2 * j])
  elseif cls[j][1] == mine[1] then
    pos = pos + ahead_in(KEYS[1 + 2 * j], cls[j], now, e_t, a_t, e.s, m_t)
  end
end
local out = {'ok', pos, e.c}
if ARGV[5] == '1' then
  out[4] = rcall('HGET', KEYS[2], e.c) or '0'
  for _, sample in ipairs(rcall('LRANGE', KEYS[2 + 2 * c], '0', '-1')) do
    out[#out + 1] = sample
  end
end
return out
