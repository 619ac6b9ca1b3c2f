-- Per-class figures for the wallboard (stats) and the overflow sweep, read from the class
-- orders one priority at a time (9 short reads per class: this runs seldom, and keeping a
-- second by-arrival index would cost every push and pop).
-- KEYS: calls, then the order of every configured class
-- ARGV: limit of calls due per class (0 = list none), then per class: target cutoff ('' = no
--       target; over target = arrival < cutoff), max-wait cutoff ('' = none; due = arrival <=
--       cutoff)
-- Returns {{size, oldest arrival or '', over target}, ...} per class, then the records of the
--         calls due (at most `limit` per class and priority)
local limit = tonumber(ARGV[1])
local out, due = {}, {}
for i = 2, #KEYS do
  local key = KEYS[i]
  local target, max_wait = tonumber(ARGV[2 * i - 2]), tonumber(ARGV[2 * i - 1])
  local oldest, over = nil, 0
  for p = 1, 9 do
    local head = zhead_in(key, p)
    if head then
      local a = sunpack('>d', head, 2)
      if oldest == nil or a < oldest then oldest = a end
      if target ~= nil and target > 0 then
        over = over + rcall('ZLEXCOUNT', key, LOW[p], BELOW[p] .. spack('>d', target))
      end
      if limit > 0 and max_wait ~= nil and max_wait > 0 then
        local calls = rcall('ZRANGEBYLEX', key, LOW[p],
          BELOW[p] .. spack('>d', max_wait) .. '\255', 'LIMIT', 0, limit)
        for _, m in ipairs(calls) do
          due[#due + 1] = rcall('HGET', KEYS[1], ssub(m, 26))
        end
      end
    end
  end
  out[#out + 1] = {rcall('ZCARD', key), oldest and sformat('%.17g', oldest) or '', over}
end
out[#out + 1] = due
return out
