-- Put an offered call back at its original place (original arrival, seq and priority): the
-- call-taker rejected the offer or did not answer. Not subject to max size: the place was owned.
-- KEYS and ARGV: as remove.lua
-- Returns {'ok', record} | {'missing'} (not offered) | {'stale'}
local id = ARGV[1]
local raw = rcall('HGET', KEYS[1], id)
if not raw then return {'missing'} end
local e = record(raw)
if e.st ~= 'o' then return {'missing'} end
local c = find_word(ARGV[2], e.c)
local C = 0
for _ in string.gmatch(ARGV[2], '%S+') do C = C + 1 end
local first = 2 + C
local b = find_key(KEYS, e.b, first, #KEYS)
if c == nil or b == nil then return {'stale'} end
local m = member(e.pc, tonumber(e.a), e.s, id)
zadd(KEYS[b], m)
zadd(KEYS[1 + c], m)
raw = rewrite(raw, 'w', e.n, e.cb)
rcall('HSET', KEYS[1], id, raw)
return {'ok', raw}
