-- Match waiting calls with available call-takers, as many as possible (up to a limit), in one
-- atomic step: a call leaves the queue and a call-taker is reserved together, or neither.
-- Call-takers are taken longest idle first; each is offered the best call its skills allow,
-- by the queue's own pop (q_pop). A group (skill set) that finds no call is dry for the rest
-- of the run: its members are skipped without asking the queue again.
-- KEYS: agents head (11), queue calls, the keys of the planned pops
-- ARGV: channel, now, groups version, limit, offer deadline, agent id ('' = everyone
--       available), plan (packed: number of groups G, then per group: group id, KEYS
--       positions of its eligible buckets, its pop op)
-- Returns {'done' | 'more' | 'stale', reservation JSON...}
if (redis.call('GET', KEYS[GVER]) or '0') ~= ARGV[3] then return {'stale'} end
local limit, deadline, only = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local plan = unpack_plan(ARGV[7])
local ops, i = {}, 2
for _ = 1, tonumber(plan[1]) do
  ops[plan[i]] = i + 1
  i = i + 4 + tonumber(plan[i + 3])
end

local planned, stale, current = {}, false, false
-- The best call for group `gid`, taken off the queue (call id and record), or nil.
local function pop(gid)
  local op = planned[gid]
  if op == nil then
    local at = ops[gid]
    if at == nil then return nil end
    local buckets = {}
    for pos in string.gmatch(plan[at], '%d+') do buckets[#buckets + 1] = KEYS[tonumber(pos)] end
    local k, a = q_op(plan, at + 1, '')
    op = {k, a, buckets}
    planned[gid] = op
  end
  -- No eligible bucket holds a call: no need to ask the queue (it would say 'empty'), once a
  -- first pop of this run has shown that the plan's bucket list is current (not 'stale').
  if current and (#op[3] == 0 or redis.call('EXISTS', unpack(op[3])) == 0) then return nil end
  local reply = q_pop(op[1], op[2])  -- the record taken, 'empty' or 'stale'
  current = reply ~= 'stale'
  if reply == 'empty' then return nil end
  -- The queue's bucket index changed since the client planned: nothing was taken.
  if reply == 'stale' then stale = true; return nil end
  return call_of(reply), reply
end

local function reserve(p, call, raw)
  local r = {
    id = 'R' .. redis.call('HINCRBY', KEYS[SEQ], 'resv', 1), agent = p.id, call = call,
    entry = raw, at = NOW, exp = deadline,
  }
  local rraw = cjson.encode(r)
  redis.call('HSET', KEYS[RESV], r.id, rraw)
  redis.call('ZADD', KEYS[EXPIRY], deadline, r.id)
  redis.call('HSET', KEYS[BYCALL], call, r.id)
  unplace(p)
  p.state, p.since, p.resv, p.call = 'reserved', NOW, r.id, call
  place(p)
  save(p)
  publish('offered', p, NOW, {reservation = r.id, call = call})
  return rraw
end

local out = {'done'}
if only ~= '' then
  local p = load_agent(only)
  if p and p.state == 'available' and not p.ready then
    local e, raw = pop(p.gid)
    if e then out[2] = reserve(p, e, raw) end
  end
  if stale then out[1] = 'stale' end
  return out
end

-- Groups still worth visiting: those with members in `available`, until dry or exhausted.
local left, open = {}, 0
local flat = redis.call('HGETALL', KEYS[READY])
for i = 1, #flat, 2 do
  left[flat[i]] = tonumber(flat[i + 1])
  open = open + 1
end
local dry, cursor, made = {}, 0, 0
local CHUNK = 64
while open > 0 do
  if made >= limit then
    out[1] = 'more'
    break
  end
  local chunk = redis.call('ZRANGE', KEYS[AVAILABLE], cursor, cursor + CHUNK - 1)
  if #chunk == 0 then break end
  for _, m in ipairs(chunk) do
    local gid = string.sub(m, 1, GID_LENGTH)
    local p
    if not dry[gid] then p = load_agent(string.sub(m, GID_LENGTH + 2)) end
    if dry[gid] then
      cursor = cursor + 1
    elseif not (p and p.state == 'available' and member(p) == m) then
      -- Cannot happen while the indexes agree with the records; never offer to a stray.
      redis.call('ZREM', KEYS[AVAILABLE], m)
    else
      local e, raw = pop(gid)
      if e then
        -- Reserving removes the member, so the cursor stays where it is.
        out[#out + 1] = reserve(p, e, raw)
        made = made + 1
        left[gid] = (left[gid] or 1) - 1
        if left[gid] <= 0 then open = open - 1 end
        if made >= limit or open <= 0 then break end
      elseif stale then
        out[1] = 'stale'
        return out
      else
        dry[gid] = true
        open = open - 1
        cursor = cursor + 1
        if open <= 0 then break end
      end
    end
  end
end
return out
