-- Timers that fell due by `now`: wrap-ups that end on their own, reject delays that are over.
-- KEYS: agents head (11), queue calls
-- ARGV: channel, now, limit
-- Returns {number of timers handled, queue record, handle seconds, ...} (a pair per wrap-up)
local due = redis.call('ZRANGEBYSCORE', KEYS[TIMERS], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {#due}
for _, id in ipairs(due) do
  local p = load_agent(id)
  if p and p.state == 'wrap_up' and p.wrap then
    -- Ends at its deadline, not at the tick: the call-taker's idle time counts from then.
    local entry, handle = finish_wrap(p, p.wrap, 'wrap_up_done')
    out[#out + 1] = entry
    out[#out + 1] = fmt(handle)
  elseif p and p.state == 'available' and p.ready then
    unplace(p)
    p.idle, p.ready = p.ready, nil
    place(p)
    save(p)
    publish('ready', p, p.idle)
  else
    redis.call('ZREM', KEYS[TIMERS], id)
  end
end
return out
