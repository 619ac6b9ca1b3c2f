-- Drop an offered call that was answered.
-- KEYS: calls
-- ARGV: call id
-- Returns 1, or 0 when the call is not offered
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and string.sub(raw, 1, 1) == 'o' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
