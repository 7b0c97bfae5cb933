--[[
  Adds a signed delta to a SKU's available quantity (a count found on the shelf, a return put
  back), guarded by its version like set-stock, so it applies to exactly the state the caller
  saw. Never takes available below zero. Idempotent by operation id.

  KEYS[1] operation record  hash: k 'adjust', q "expected|delta", c code, r detail
  KEYS[2] change stream
  KEYS[3] stock hash        available, reserved, version

  ARGV[1] now, Unix ms
  ARGV[2] operation id
  ARGV[3] record ttl, ms
  ARGV[4] sku
  ARGV[5] expected version
  ARGV[6] delta (non-zero integer)

  Returns {code, replayed (0|1), detail}:
    0  OK                "available,version" after the change                         stored
    1  INSUFFICIENT      "1,available,-delta": the result would be below zero      not stored
    2  UNKNOWN_SKU       "1": the SKU does not exist (create it with set-stock)     not stored
    3  OP_CONFLICT       kind stored under this id (another request used it)      not stored
    4  VERSION_CONFLICT  "current version"                                          not stored
]]
local recordKey = KEYS[1]
local streamKey = KEYS[2]
local stockKey = KEYS[3]
local now = ARGV[1]
local operationId = ARGV[2]
local recordTtl = ARGV[3]
local sku = ARGV[4]
local expected = tonumber(ARGV[5])
local delta = tonumber(ARGV[6])
local fingerprint = ARGV[5] .. '|' .. ARGV[6]

local function int(n)
  return string.format('%d', n)
end

local stored = redis.call('HMGET', recordKey, 'k', 'q', 'c', 'r')
if stored[1] then
  if stored[1] ~= 'adjust' or stored[2] ~= fingerprint then
    return {3, 0, stored[1]}
  end
  return {tonumber(stored[3]), 1, stored[4]}
end

local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
if not level[1] then
  return {2, 0, '1'}
end
local version = tonumber(level[3] or '0')
if version ~= expected then
  return {4, 0, int(version)}
end
local available = tonumber(level[1]) + delta
if available < 0 then
  return {1, 0, '1,' .. level[1] .. ',' .. int(-delta)}
end
local reserved = tonumber(level[2] or '0')
version = version + 1
redis.call('HSET', stockKey, 'available', available, 'version', version)
local detail = int(available) .. ',' .. int(version)
redis.call('HSET', recordKey, 'k', 'adjust', 'q', fingerprint, 'c', 0, 'r', detail)
redis.call('PEXPIRE', recordKey, recordTtl)
redis.call('XADD', streamKey, '*', 'op', operationId, 'k', 'adjust', 't', now,
  's', sku, 'd', delta, 'r', 0, 'a', available, 'h', reserved, 'v', version)
return {0, 0, detail}
