--[[
  Warm-up: fills a SKU that Redis does not have (a new Redis, or one that lost its data) from
  the durable state in MySQL. A SKU Redis already has is left alone: Redis is ahead of MySQL by
  whatever the ledger has not drained yet, so overwriting it could resell sold units.

  Reservations live only in Redis; a SKU that has to be loaded lost them, so their units go
  back to available: available = MySQL on_hand, reserved = 0. The stream entry (kind 'load')
  changes MySQL's on_hand by 0 and its reserved by -reserved, so both sides agree afterwards.

  KEYS[1] change stream
  KEYS[2] stock hash  available, reserved, version

  ARGV[1] now, Unix ms
  ARGV[2] operation id of this warm-up (the ledger's key)
  ARGV[3] sku
  ARGV[4] on_hand in MySQL (non-negative integer)
  ARGV[5] reserved in MySQL (non-negative integer)
  ARGV[6] version in MySQL (the loaded SKU continues from version + 1)

  Returns {code, replayed (0|1), detail}:
    0  OK  "available,version": replayed 0 when loaded now, 1 when Redis already had the SKU
           (then its current values)
]]
local streamKey = KEYS[1]
local stockKey = KEYS[2]
local now = ARGV[1]
local operationId = ARGV[2]
local sku = ARGV[3]
local onHand = tonumber(ARGV[4])
local reserved = tonumber(ARGV[5])
local version = tonumber(ARGV[6]) + 1

local function int(n)
  return string.format('%d', n)
end

local level = redis.call('HMGET', stockKey, 'available', 'version')
if level[1] then
  return {0, 1, level[1] .. ',' .. (level[2] or '0')}
end
redis.call('HSET', stockKey, 'available', onHand, 'reserved', 0, 'version', version)
redis.call('XADD', streamKey, '*', 'op', operationId, 'k', 'load', 't', now,
  's', sku, 'd', 0, 'r', -reserved, 'a', onHand, 'h', 0, 'v', version)
return {0, 0, int(onHand) .. ',' .. int(version)}
