-- Drop an offered call that was answered.
-- KEYS: calls
-- ARGV: call id
-- Returns 1, or 0 when the call is not offered
local raw = rcall('HGET', KEYS[1], ARGV[1])
if raw and ssub(raw, 1, 1) == 'o' then
  rcall('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
