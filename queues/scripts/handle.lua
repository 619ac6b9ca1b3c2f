-- Record one handle time in a class's rolling window (newest first, at most `window` samples).
-- KEYS: handle list
-- ARGV: now, seconds, window
rcall('LPUSH', KEYS[1], ARGV[1] .. '|' .. ARGV[2])
rcall('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1
