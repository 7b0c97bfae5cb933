--[[
  Compensation: gives back everything an earlier sale took (a deduct, a once-per-user deduct, or
  a confirmed reservation), when a later step of the order failed. Idempotent by its own
  operation id, and a sale is restored at most once whatever ids later restores carry. An
  operation that never took stock (unknown, expired from the idempotency window, refused) is
  refused, and that answer is not stored: once the original lands, the same restore works.

  KEYS[1]     restore record  hash: k 'restore', q target operation id, c code, r detail
  KEYS[2]     target record   hash of the operation to undo; this script sets rb (restored by)
  KEYS[3]     change stream
  KEYS[4]     buyers set of the target's SKU (touched only for a once-per-user target, whose
              buyer may then buy again)
  KEYS[5..]   stock hash of each line of the target, in the order of its `l` field

  ARGV[1]     now, Unix ms
  ARGV[2]     restore operation id
  ARGV[3]     record ttl, ms
  ARGV[4]     target operation id

  Returns {code, replayed (0|1), detail}:
    0  OK               "available,version" per line after the restore                 stored
    3  OP_CONFLICT      kind stored under the restore id (another request used it)  not stored
    9  NOT_APPLIED      target kind, or "": the target never took stock             not stored
    10 NOT_RESTORABLE   "reserve:<state>" or the kind: nothing sold to give back    not stored
    14 ALREADY_RESTORED id of the restore that already gave it back                not stored
    13 STALE_KEYS       KEYS do not match the target's lines (read them again)      not stored
]]
local recordKey = KEYS[1]
local targetKey = KEYS[2]
local streamKey = KEYS[3]
local buyersKey = KEYS[4]
local now = ARGV[1]
local operationId = ARGV[2]
local recordTtl = ARGV[3]
local targetId = ARGV[4]
local FIRST_STOCK_KEY = 5

local function int(n)
  return string.format('%d', n)
end

local stored = redis.call('HMGET', recordKey, 'k', 'q', 'c', 'r')
if stored[1] then
  if stored[1] ~= 'restore' or stored[2] ~= targetId then
    return {3, 0, stored[1]}
  end
  return {tonumber(stored[3]), 1, stored[4]}
end

local target = redis.call('HMGET', targetKey, 'k', 'c', 'l', 'u', 'rb', 's')
local kind, code, lines, userId, restoredBy, state = target[1], target[2], target[3], target[4], target[5], target[6]
if not kind or code ~= '0' then
  return {9, 0, kind or ''}
end
if kind == 'reserve' then
  if state ~= 'confirmed' then
    return {10, 0, 'reserve:' .. (state or '')}
  end
elseif kind ~= 'deduct' and kind ~= 'once' then
  return {10, 0, kind}
end
if restoredBy then
  return {14, 0, restoredBy}
end

local parsed = {}
for word in string.gmatch(lines, '%S+') do
  parsed[#parsed + 1] = word
end
local lineCount = #parsed / 2
if #KEYS - FIRST_STOCK_KEY + 1 ~= lineCount then
  return {13, 0, ''}
end

local entry = {'op', operationId, 'k', 'restore', 't', now}
local reply = {}
for i = 1, lineCount do
  local stockKey = KEYS[FIRST_STOCK_KEY + i - 1]
  local sku = parsed[2 * i - 1]
  local quantity = tonumber(parsed[2 * i])
  local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
  local available = tonumber(level[1] or '0') + quantity
  local reserved = tonumber(level[2] or '0')
  local version = tonumber(level[3] or '0') + 1
  redis.call('HSET', stockKey, 'available', available, 'reserved', reserved, 'version', version)
  local n = #entry
  entry[n + 1] = 's'
  entry[n + 2] = sku
  entry[n + 3] = 'd'
  entry[n + 4] = quantity
  entry[n + 5] = 'r'
  entry[n + 6] = 0
  entry[n + 7] = 'a'
  entry[n + 8] = available
  entry[n + 9] = 'h'
  entry[n + 10] = reserved
  entry[n + 11] = 'v'
  entry[n + 12] = version
  reply[2 * i - 1] = int(available)
  reply[2 * i] = int(version)
end

if kind == 'once' and userId then
  redis.call('SREM', buyersKey, userId)
end
local detail = table.concat(reply, ',')
redis.call('HSET', targetKey, 'rb', operationId)
redis.call('HSET', recordKey, 'k', 'restore', 'q', targetId, 'c', 0, 'r', detail)
redis.call('PEXPIRE', recordKey, recordTtl)
redis.call('XADD', streamKey, '*', unpack(entry))
return {0, 0, detail}
