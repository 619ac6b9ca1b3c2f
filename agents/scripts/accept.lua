-- Accept an offer: the call-taker goes on the call, the call leaves the queue for good.
-- KEYS: agents head (11), queue calls
-- ARGV: channel, now, reservation id, agent id ('' = do not check)
-- Returns {'ok', reservation JSON} | {'missing'} | {'not_yours', agent} | {'late', deadline}
--         | {'caller_gone'} (the call was taken out of the queue meanwhile; offer cancelled)
local raw = redis.call('HGET', KEYS[RESV], ARGV[3])
if not raw then return {'missing'} end
local r = cjson.decode(raw)
if ARGV[4] ~= '' and r.agent ~= ARGV[4] then return {'not_yours', r.agent} end
if tonumber(NOW) >= tonumber(r.exp) then return {'late', r.exp} end
local p = holder(r)
-- Cannot happen while the indexes agree; left for expire_due, which puts the call back.
if not p then return {'missing'} end
drop_reservation(r)
if q_complete({KEYS[Q_CALLS]}, {r.call}) == 0 then
  -- Someone removed the call from the queue without telling us (Queues.remove instead of
  -- caller_gone): nobody to talk to, so the call-taker is free again.
  unplace(p)
  p.state, p.since, p.resv, p.call = 'available', NOW, nil, nil
  place(p)
  save(p)
  publish('cancelled', p, NOW, {reservation = r.id, call = r.call})
  return {'caller_gone'}
end
unplace(p)
p.state, p.since, p.resv, p.missed = 'on_call', NOW, nil, 0
p.answered, p.entry = NOW, r.entry
place(p)
save(p)
publish('accepted', p, NOW, {reservation = r.id, call = r.call})
return {'ok', raw}
