-- Several queue operations in one script call (a chunk of a `Batch`). queues/scripts.py puts in
-- front of this the library blocks and each operation's own script as a local function of
-- (KEYS, ARGV), collected in the list OPS in the order of queues.scripts.BATCHED.
-- KEYS: every key the operations use, each once
-- ARGV: per operation: its head (one byte: its place in OPS, one byte: its number of
--       arguments, then its keys as 2-byte big-endian indexes into KEYS, in its own KEYS
--       order), then its arguments
-- Returns the operations' answers, in order: each what its own script returns.
-- Each operation is as atomic as on its own (the whole chunk is, too); one that answers 'stale'
-- has changed nothing, as on its own. Heads and sizes of sorted sets are remembered across the
-- chunk's operations (zsets in _lib.lua).
zsets_remembered()
local out, n, a = {}, 0, 1
local heads = {}  -- operations of a chunk mostly share their heads: each read once
while a <= #ARGV do
  local head = ARGV[a]
  local h = heads[head]
  if h == nil then
    local K = {}
    for j = 3, #head - 1, 2 do K[#K + 1] = KEYS[sunpack('>H', head, j)] end
    h = {OPS[sbyte(head, 1)], sbyte(head, 2), K}
    heads[head] = h
  end
  local na = h[2]
  out[n + 1] = h[1](h[3], {unpack(ARGV, a + 1, a + na)})
  n = n + 1
  a = a + 1 + na
end
return out
