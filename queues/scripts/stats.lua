-- Per-class figures for the wallboard (stats) and the overflow sweep, from the arrivals zsets.
-- KEYS: calls, then per configured class: its arrivals
-- ARGV: limit of calls due per class (0 = list none), then per class: target cutoff ('' = no
--       target; over target = arrival < cutoff), max-wait cutoff ('' = none; due = arrival <=
--       cutoff)
-- Returns {{size, oldest arrival or '', over target}, ...} per class, then the record of
--         every call due (at most `limit` per class)
local limit = tonumber(ARGV[1])
local out, due = {}, {}
for i = 2, #KEYS do
  local key = KEYS[i]
  local target, max_wait = ARGV[2 * i - 2], ARGV[2 * i - 1]
  local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2] or ''
  local over = 0
  if target ~= '' and head ~= '' then
    over = redis.call('ZCOUNT', key, '-inf', '(' .. target)
  end
  out[#out + 1] = {redis.call('ZCARD', key), head, over}
  if limit > 0 and max_wait ~= '' then
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', max_wait, 'LIMIT', 0, limit)) do
      due[#due + 1] = redis.call('HGET', KEYS[1], id)
    end
  end
end
out[#out + 1] = due
return out
