-- An offer missed: rejected by the call-taker, or past its deadline. The call goes back to its
-- original place (the queue's own requeue, q_requeue); the call-taker counts one more miss in
-- a row and, at the limit, goes on break, else is available again (after the reject delay, if
-- any). Each reservation is settled whole or not at all.
-- KEYS: agents head (11), queue calls, the keys of the planned requeue
-- ARGV: channel, now, mode ('reject' | 'expire'), reservation id (reject), agent id ('' = do
--       not check), max missed, missed reason, reject delay seconds, limit (expire), the
--       requeue op, packed (see q_op; its call id is a placeholder)
-- Returns {'ok' | 'stale', reservation JSON...} | {'missing'} | {'not_yours', agent}
local mode, max_missed, reason = ARGV[3], tonumber(ARGV[6]), ARGV[7]
local delay = tonumber(ARGV[8])
local plan = unpack_plan(ARGV[10])
local ids
if mode == 'reject' then
  ids = {ARGV[4]}
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[EXPIRY], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[9]))
end

local out = {'ok'}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[RESV], id)
  if not raw then
    if mode == 'reject' then return {'missing'} end
    redis.call('ZREM', KEYS[EXPIRY], id)
  else
    local r = cjson.decode(raw)
    if mode == 'reject' and ARGV[5] ~= '' and r.agent ~= ARGV[5] then
      return {'not_yours', r.agent}
    end
    local k, a = q_op(plan, 1, r.call)
    -- First, so that a stale plan changes nothing. 'missing': the call already left the
    -- queue (removed directly); only the call-taker is left to free.
    if q_requeue(k, a)[1] == 'stale' then
      out[1] = 'stale'
      return out
    end
    -- A reject counts from now; a timeout from its deadline, however late the tick runs.
    local at = NOW
    if mode == 'expire' then at = r.exp end
    local p = holder(r)
    drop_reservation(r)
    if p then
      unplace(p)
      p.resv, p.call = nil, nil
      p.missed = (tonumber(p.missed) or 0) + 1
      if p.missed >= max_missed then
        p.state, p.reason = 'on_break', reason
      else
        p.state, p.idle = 'available', at
        if delay > 0 and tonumber(at) + delay > tonumber(NOW) then
          p.ready = fmt(tonumber(at) + delay)
        end
      end
      p.since = at
      place(p)
      save(p)
      local event = 'rejected'
      if mode == 'expire' then event = 'expired' end
      publish(event, p, at, {reservation = r.id, call = r.call, missed = p.missed})
    end
    out[#out + 1] = raw
  end
end
return out
