-- Several queue operations in one script call (a chunk of a `Batch`). queues/scripts.py puts in
-- front of this the library blocks and each operation's own script as a local function of
-- (KEYS, ARGV), collected in the table OPS by name.
-- KEYS: every key the operations use, each once
-- ARGV: per operation: its name, its keys as 2-byte big-endian indexes into KEYS (in its own
--       KEYS order), the number of its arguments, then its arguments
-- Returns the operations' answers, in order: each what its own script returns.
-- Each operation is as atomic as on its own (the whole chunk is, too); one that answers 'stale'
-- has changed nothing, as on its own.
local out, n, a = {}, 0, 1
local keysets = {}  -- operations of a chunk mostly share their key lists
while a <= #ARGV do
  local op, ki, na = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local K = keysets[ki]
  if K == nil then
    K = {}
    for j = 1, #ki / 2 do K[j] = KEYS[struct.unpack('>H', ki, 2 * j - 1)] end
    keysets[ki] = K
  end
  local A = {unpack(ARGV, a + 3, a + 2 + na)}
  a = a + 3 + na
  n = n + 1
  out[n] = OPS[op](K, A)
end
return out
