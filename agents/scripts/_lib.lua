-- Helpers shared by the agents scripts; agents/scripts.py puts this file in each script after
-- the queue scripts it embeds as functions q_<name>(KEYS, ARGV), before its own text.
-- Conventions:
--   * KEYS 1..12 are the agents keys (agents/keys.py Keys.head), KEYS 13 the queue's calls
--     hash, then (for scripts that run queue operations) the keys those operations need;
--   * ARGV[1] is the event channel, ARGV[2] the time `now` as a string (exact double);
--   * times are stored as strings in the presence JSON, never as Lua numbers (cjson and
--     tostring keep 14 digits, which would lose sub-millisecond precision);
--   * every change of a call-taker goes through unplace(p) ... place(p), which keep the
--     indexes (available, timers, duty, ready) in step with the record.

local PRESENCE, AVAILABLE, TIMERS, DUTY, READY = 1, 2, 3, 4, 5
local RESV, EXPIRY, BYCALL, SEQ, GROUPS, GVER, LOG = 6, 7, 8, 9, 10, 11, 12
local Q_CALLS = 13
-- The log stream's cap (agents/keys.py): bounds memory when nothing records it.
local LOG_MAX = 200000
-- Placeholders in planned queue operations (agents/queuing.py NOW_TEXT and CALL).
local NOW_MARK, CALL_MARK = '0x0.0000000000001p-1022', '\0call'
local CHANNEL, NOW = ARGV[1], ARGV[2]
local GID_LENGTH = 12  -- agents/keys.py GROUP_ID_LENGTH
local ON_DUTY = {available = true, reserved = true, on_call = true, wrap_up = true}

local function fmt(x)
  return string.format('%.17g', x)
end

local function load_agent(id)
  local raw = redis.call('HGET', KEYS[PRESENCE], id)
  if raw then return cjson.decode(raw) end
  return nil
end

local function save(p)
  redis.call('HSET', KEYS[PRESENCE], p.id, cjson.encode(p))
end

local function member(p)
  return p.gid .. '|' .. p.id
end

local function count(k, gid, by)
  if redis.call('HINCRBY', KEYS[k], gid, by) <= 0 then redis.call('HDEL', KEYS[k], gid) end
end

-- Take p out of every index its state put it in.
local function unplace(p)
  if p.state == 'available' then
    if p.ready then
      redis.call('ZREM', KEYS[TIMERS], p.id)
    else
      redis.call('ZREM', KEYS[AVAILABLE], member(p))
      count(READY, p.gid, -1)
    end
  elseif p.state == 'wrap_up' then
    redis.call('ZREM', KEYS[TIMERS], p.id)
  end
  if ON_DUTY[p.state] then count(DUTY, p.gid, -1) end
end

-- Put p in the indexes of its state: routable when available and not resting.
local function place(p)
  if p.state == 'available' then
    if p.ready then
      redis.call('ZADD', KEYS[TIMERS], p.ready, p.id)
    else
      redis.call('ZADD', KEYS[AVAILABLE], p.idle, member(p))
      count(READY, p.gid, 1)
    end
  elseif p.state == 'wrap_up' then
    redis.call('ZADD', KEYS[TIMERS], p.wrap, p.id)
  end
  if ON_DUTY[p.state] then count(DUTY, p.gid, 1) end
end

-- One small JSON event per change, numbered per center (the console's Last-Event-ID),
-- published for the consoles and appended to the log stream (with the call-taker's skill-set
-- group) for the durable record: pub/sub forgets what nobody heard, the stream does not.
local function publish(event, p, at, extra)
  local ev = {
    id = redis.call('HINCRBY', KEYS[SEQ], 'event', 1), event = event, agent = p.id,
    state = p.state, at = tonumber(at),
  }
  if p.reason then ev.reason = p.reason end
  if extra then
    for k, v in pairs(extra) do ev[k] = v end
  end
  local json = cjson.encode(ev)
  redis.call('PUBLISH', CHANNEL, json)
  -- 't': the time exactly as given (the JSON number keeps only 14 digits: 100 microseconds).
  redis.call('XADD', KEYS[LOG], 'MAXLEN', '~', LOG_MAX, '*', 'e', json, 'g', p.gid or '',
             't', tostring(at))
end

-- Record a skill set's group (routing needs the skills of every group it meets).
local function add_group(gid, skills_json)
  if redis.call('HSETNX', KEYS[GROUPS], gid, skills_json) == 1 then
    redis.call('INCR', KEYS[GVER])
  end
end

local function drop_reservation(r)
  redis.call('HDEL', KEYS[RESV], r.id)
  redis.call('ZREM', KEYS[EXPIRY], r.id)
  if redis.call('HGET', KEYS[BYCALL], r.call) == r.id then
    redis.call('HDEL', KEYS[BYCALL], r.call)
  end
end

-- The call-taker holding reservation r, or nil when the record does not agree.
local function holder(r)
  local p = load_agent(r.agent)
  if p and p.state == 'reserved' and p.resv == r.id then return p end
  return nil
end

-- End of wrap-up at time `at`: available, or on break when one was chosen meanwhile.
-- Returns the queue record of the call (the client reads its class) and the handle time
-- (talk + wrap-up).
local function finish_wrap(p, at, event)
  unplace(p)
  local handle = (tonumber(p.talk) or 0) + math.max(0, tonumber(at) - tonumber(p.wstart or at))
  local entry = p.entry or ''
  p.talk, p.wstart, p.wrap, p.entry = nil, nil, nil, nil
  if p.pbreak then
    p.state, p.reason, p.pbreak = 'on_break', p.pbreak, nil
  else
    p.state, p.idle = 'available', at
  end
  p.since = at
  place(p)
  save(p)
  publish(event, p, at)
  return entry, handle
end

-- The call id in a queue record (what the queue's pop returns). The only place agents' Lua
-- reads inside a record: today the last tab-separated field is a JSON object with "id".
local function call_of(record)
  local ok, d = pcall(cjson.decode, string.match(record, '[^\t]*$'))
  if ok and type(d) == 'table' and d.id then return d.id end
  return cjson.decode(record).id
end

-- The values of a plan packed by the client (agents/queuing.py pack): length ':' bytes ...
local find, sub = string.find, string.sub
local function unpack_plan(s)
  local out, i, k, len = {}, 1, 0, #s
  while i <= len do
    local colon = find(s, ':', i, true)
    local n = tonumber(sub(s, i, colon - 1))
    k = k + 1
    out[k] = sub(s, colon + 1, colon + n)
    i = colon + n + 1
  end
  return out
end

-- A queue operation planned by the client (agents/queuing.py), read from plan[i]: its key
-- positions in KEYS (comma separated), the number n of its args, the args. Returns the KEYS
-- and ARGV tables to call the embedded queue script with (placeholders replaced by the time
-- and by `call`), and the plan index after the op.
local function q_op(plan, i, call)
  local k = {}
  for pos in string.gmatch(plan[i], '%d+') do k[#k + 1] = KEYS[tonumber(pos)] end
  local n = tonumber(plan[i + 1])
  local a = {}
  for j = 1, n do
    local v = plan[i + 1 + j]
    if v == NOW_MARK then
      v = NOW
    elseif v == CALL_MARK then
      v = call
    end
    a[j] = v
  end
  return k, a, i + 2 + n
end
