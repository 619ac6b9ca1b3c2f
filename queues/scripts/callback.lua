-- Flag a call as a callback (the caller hung up and will be called back). Its place in line
-- does not change: no bucket is touched. Works on an offered call too, so that a requeue brings
-- it back flagged.
-- KEYS: calls
-- ARGV: call id
-- Returns {'ok', record} | {'missing'}
local raw = rcall('HGET', KEYS[1], ARGV[1])
if not raw then return {'missing'} end
local e = record(raw)
if e.cb ~= '1' then
  raw = rewrite(raw, e.st, e.n, '1')
  rcall('HSET', KEYS[1], ARGV[1], raw)
end
return {'ok', raw}
