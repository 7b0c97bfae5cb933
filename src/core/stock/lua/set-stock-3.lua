--[[
  Sets a SKU's available quantity, guarded by its version (compare-and-set): the write happens
  only if nothing changed the SKU since the caller read `expected version`, so a correction never
  overwrites a sale made in between. Expected version 0 means "the SKU does not exist yet" and
  creates it. Reserved units are left as they are. Idempotent by operation id.

  KEYS[1] operation record  hash: k 'set', q "expected|available", c code, r detail
  KEYS[2] change stream
  KEYS[3] stock hash        available, reserved, version

  ARGV[1] now, Unix ms
  ARGV[2] operation id
  ARGV[3] record ttl, ms
  ARGV[4] sku
  ARGV[5] expected version (0: must not exist)
  ARGV[6] new available quantity (non-negative integer)

  Returns {code, replayed (0|1), detail}:
    0  OK                "available,version" after the write                          stored
    3  OP_CONFLICT       kind stored under this id (another request used it)      not stored
    4  VERSION_CONFLICT  "current version" (0: the SKU does not exist)            not stored
]]
local recordKey = KEYS[1]
local streamKey = KEYS[2]
local stockKey = KEYS[3]
local now = ARGV[1]
local operationId = ARGV[2]
local recordTtl = ARGV[3]
local sku = ARGV[4]
local expected = tonumber(ARGV[5])
local target = tonumber(ARGV[6])
local fingerprint = ARGV[5] .. '|' .. ARGV[6]

local function int(n)
  return string.format('%d', n)
end

local stored = redis.call('HMGET', recordKey, 'k', 'q', 'c', 'r')
if stored[1] then
  if stored[1] ~= 'set' or stored[2] ~= fingerprint then
    return {3, 0, stored[1]}
  end
  return {tonumber(stored[3]), 1, stored[4]}
end

local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
local version = tonumber(level[3] or '0')
if version ~= expected then
  return {4, 0, int(version)}
end
local delta = target - tonumber(level[1] or '0')
local reserved = tonumber(level[2] or '0')
version = version + 1
redis.call('HSET', stockKey, 'available', target, 'reserved', reserved, 'version', version)
local detail = int(target) .. ',' .. int(version)
redis.call('HSET', recordKey, 'k', 'set', 'q', fingerprint, 'c', 0, 'r', detail)
redis.call('PEXPIRE', recordKey, recordTtl)
redis.call('XADD', streamKey, '*', 'op', operationId, 'k', 'set', 't', now,
  's', sku, 'd', delta, 'r', 0, 'a', target, 'h', reserved, 'v', version)
return {0, 0, detail}
