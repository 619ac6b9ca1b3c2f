-- A call-taker's own transitions: log in or out, break, end of break, end of call, end of
-- wrap-up, change of skills. The allowed source states come from agents/model.py TRANSITIONS.
-- KEYS: agents head (11), queue calls
-- ARGV: channel, now, action, agent id, allowed source states (space separated), x1, x2
--   login / set_skills: x1 = skills JSON, x2 = group id;  break: x1 = reason
--   end_call: x1 = call id ('' = whatever call), x2 = end of wrap-up ('' = no wrap-up)
-- Returns {'ok', presence JSON, queue record of the call, handle seconds} (record '' when no
--         call ended)
--         | {'refused', state} | {'ignored', state} (end_call for another call)
local action, id, x1, x2 = ARGV[3], ARGV[4], ARGV[6], ARGV[7]
local p = load_agent(id)
local state = 'offline'
if p then state = p.state end

if action == 'end_call' and x1 ~= '' and (state ~= 'on_call' or p.call ~= x1) then
  -- A late or repeated "call ended" for a call this call-taker no longer has.
  return {'ignored', state}
end
if not string.find(' ' .. ARGV[5] .. ' ', ' ' .. state .. ' ', 1, true) then
  return {'refused', state}
end

local entry, handle = '', 0
if action == 'login' then
  if p then unplace(p) end
  add_group(x2, x1)
  p = {id = id, state = 'available', since = NOW, idle = NOW, skills = cjson.decode(x1),
       gid = x2, missed = 0}
  place(p)
  save(p)
  publish('login', p, NOW)
elseif action == 'logout' then
  unplace(p)
  if state == 'wrap_up' then
    entry = p.entry or ''
    handle = (tonumber(p.talk) or 0) + math.max(0, tonumber(NOW) - tonumber(p.wstart))
  end
  p = {id = id, state = 'offline', since = NOW, skills = p.skills, gid = p.gid, missed = 0}
  save(p)
  publish('logout', p, NOW)
elseif action == 'break' then
  if state == 'wrap_up' then
    p.pbreak = x1
    save(p)
    publish('break_pending', p, NOW, {pending_break = x1})
  else
    unplace(p)
    p.state, p.since, p.reason = 'on_break', NOW, x1
    place(p)
    save(p)
    publish('break', p, NOW)
  end
elseif action == 'end_break' then
  if state == 'wrap_up' then
    p.pbreak = nil
    save(p)
    publish('break_cancelled', p, NOW)
  else
    unplace(p)
    p.state, p.since, p.idle, p.reason, p.missed = 'available', NOW, NOW, nil, 0
    place(p)
    save(p)
    publish('end_break', p, NOW)
  end
elseif action == 'end_call' then
  unplace(p)
  local talk = math.max(0, tonumber(NOW) - tonumber(p.answered or NOW))
  local call = p.call
  p.call, p.answered = nil, nil
  if x2 == '' then
    entry, handle = p.entry or '', talk
    p.entry = nil
    p.state, p.since, p.idle = 'available', NOW, NOW
  else
    p.state, p.since, p.wrap, p.wstart, p.talk = 'wrap_up', NOW, x2, NOW, talk
  end
  place(p)
  save(p)
  publish('end_call', p, NOW, {call = call})
elseif action == 'finish_wrap_up' then
  entry, handle = finish_wrap(p, NOW, 'wrap_up_done')
elseif action == 'set_skills' then
  unplace(p)
  add_group(x2, x1)
  p.skills, p.gid = cjson.decode(x1), x2
  place(p)
  save(p)
  publish('skills', p, NOW)
else
  return redis.error_reply('unknown action ' .. action)
end
return {'ok', cjson.encode(p), entry, fmt(handle)}
