-- The caller hung up (or the call left the queue for any reason). Offered: the reservation is
-- cancelled and the call-taker is available at once, keeping their place (idle since) and
-- their count of missed offers. Waiting: the call leaves the queue. Both through the queue's
-- own remove (q_remove).
-- KEYS: agents head (11), queue calls, the keys of the planned remove
-- ARGV: channel, now, call id, the remove op, packed (see q_op; its call id is a placeholder)
-- Returns {'offered', record, reservation JSON} | {'waiting', record} | {'unknown'}
--         | {'stale'}
-- ('waiting' also for a call popped by someone else than the router, which nobody reserved)
local call = ARGV[3]
local k, a = q_op(unpack_plan(ARGV[4]), 1, call)
local reply = q_remove(k, a)
if reply[1] == 'stale' then return {'stale'} end
local rid = redis.call('HGET', KEYS[BYCALL], call)
local rraw = false
if rid then rraw = redis.call('HGET', KEYS[RESV], rid) end
if rraw then
  local r = cjson.decode(rraw)
  local p = holder(r)
  drop_reservation(r)
  if p then
    unplace(p)
    p.state, p.since, p.resv, p.call = 'available', NOW, nil, nil
    place(p)
    save(p)
    publish('cancelled', p, NOW, {reservation = r.id, call = call})
  end
  return {'offered', reply[2] or cjson.decode(rraw).entry, rraw}
end
if reply[1] == 'ok' then return {'waiting', reply[2]} end
return {'unknown'}
