--[[
  The flash-sale rule: one purchase per user per SKU. Deducts the quantity and marks the user as
  a buyer of the SKU in one atomic step, so neither a double click nor two devices can buy twice.
  Idempotent by operation id like deduct-stock (a repeat returns the first answer).

  KEYS[1] operation record  hash: k 'once', q fingerprint, c code, r detail, l lines, u user
  KEYS[2] change stream
  KEYS[3] reservations      zset: held reservation id -> expiry ms (read only here)
  KEYS[4] stock hash        available, reserved, version
  KEYS[5] buyers            set of user ids that bought this SKU once-per-user

  ARGV[1] now, Unix ms
  ARGV[2] operation id
  ARGV[3] record ttl, ms
  ARGV[4] request fingerprint
  ARGV[5] '1': answer SWEEP_NEEDED while an expired reservation waits (see deduct-stock)
  ARGV[6] user id
  ARGV[7] sku
  ARGV[8] quantity (positive integer)

  Returns {code, replayed (0|1), detail}:
    0  OK                 "available,version" after the deduction                    stored
    1  INSUFFICIENT       "1,available,requested"                                     stored
    2  UNKNOWN_SKU        "1"                                                         not stored
    3  OP_CONFLICT        kind of the stored operation                                not stored
    5  ALREADY_PURCHASED  "": this user already bought the SKU                        stored
    11 SWEEP_NEEDED       ""                                                          not stored
]]
local recordKey = KEYS[1]
local streamKey = KEYS[2]
local reservationsKey = KEYS[3]
local stockKey = KEYS[4]
local buyersKey = KEYS[5]
local now = ARGV[1]
local operationId = ARGV[2]
local recordTtl = ARGV[3]
local fingerprint = ARGV[4]
local sweepCheck = ARGV[5]
local userId = ARGV[6]
local sku = ARGV[7]
local quantity = tonumber(ARGV[8])

local function int(n)
  return string.format('%d', n)
end

local function store(code, detail)
  redis.call('HSET', recordKey, 'k', 'once', 'q', fingerprint, 'c', code, 'r', detail, 'u', userId)
  redis.call('PEXPIRE', recordKey, recordTtl)
  return {code, 0, detail}
end

local stored = redis.call('HMGET', recordKey, 'k', 'q', 'c', 'r')
if stored[1] then
  if stored[1] ~= 'once' or stored[2] ~= fingerprint then
    return {3, 0, stored[1]}
  end
  return {tonumber(stored[3]), 1, stored[4]}
end

local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
if not level[1] then
  return {2, 0, '1'}
end
if redis.call('SISMEMBER', buyersKey, userId) == 1 then
  return store(5, '')
end
local available = tonumber(level[1])
if available < quantity then
  if sweepCheck == '1' and #redis.call('ZRANGEBYSCORE', reservationsKey, '-inf', now, 'LIMIT', 0, 1) > 0 then
    return {11, 0, ''}
  end
  return store(1, '1,' .. int(available) .. ',' .. int(quantity))
end

local after = available - quantity
local reserved = tonumber(level[2] or '0')
local version = tonumber(level[3] or '0') + 1
redis.call('HSET', stockKey, 'available', after, 'version', version)
redis.call('SADD', buyersKey, userId)
local detail = int(after) .. ',' .. int(version)
redis.call('HSET', recordKey, 'l', sku .. ' ' .. int(quantity))
store(0, detail)
redis.call('XADD', streamKey, '*', 'op', operationId, 'k', 'deduct', 't', now,
  's', sku, 'd', -quantity, 'r', 0, 'a', after, 'h', reserved, 'v', version)
return {0, 0, detail}
