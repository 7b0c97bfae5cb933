--[[
  Deducts up to `quantity` of one SKU: all of it when available, else whatever is available
  (down to zero, never below). For sales that already happened elsewhere (a marketplace order):
  refusing them would not undo the sale, while taking what is left stops other channels from
  selling it again. The shortfall is the caller's to report. Idempotent by operation id: a
  repeat returns the first answer and changes nothing. The record has kind `deduct` and keeps
  in `l` only what was taken, so restore-stock gives back exactly that.

  KEYS[1]     operation record  hash: k 'deduct', q fingerprint, c code, r detail, l taken
  KEYS[2]     change stream     one entry when something was taken
  KEYS[3]     reservations      zset: held reservation id -> expiry ms (read only here)
  KEYS[4]     stock hash        available, reserved, version

  ARGV[1]     now, Unix ms (the caller's clock)
  ARGV[2]     operation id
  ARGV[3]     record ttl, ms (the idempotency window)
  ARGV[4]     request fingerprint ("max|<sku> <quantity>"; another request under the id conflicts)
  ARGV[5]     '1': while an expired reservation waits for the sweep, answer SWEEP_NEEDED instead
              of taking less than asked (nothing is stored; the caller sweeps and asks again)
  ARGV[6]     sku
  ARGV[7]     quantity asked (positive integer)

  Returns {code, replayed (0|1), detail}:
    0  OK            "available,version,taken" after the deduction (taken <= asked)   stored
    1  INSUFFICIENT  "1,available,requested": nothing available, nothing taken        stored
    2  UNKNOWN_SKU   "1": the SKU has no stock key                                  not stored
    3  OP_CONFLICT   kind of the stored operation: the id was used for another request not stored
    11 SWEEP_NEEDED  ""                                                              not stored
]]
local recordKey = KEYS[1]
local streamKey = KEYS[2]
local reservationsKey = KEYS[3]
local stockKey = KEYS[4]
local now = ARGV[1]
local operationId = ARGV[2]
local recordTtl = ARGV[3]
local fingerprint = ARGV[4]
local sweepCheck = ARGV[5]
local sku = ARGV[6]
local quantity = tonumber(ARGV[7])

local function int(n)
  return string.format('%d', n)
end

local stored = redis.call('HMGET', recordKey, 'k', 'q', 'c', 'r')
if stored[1] then
  if stored[1] ~= 'deduct' or stored[2] ~= fingerprint then
    return {3, 0, stored[1]}
  end
  return {tonumber(stored[3]), 1, stored[4]}
end

local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
if not level[1] then
  return {2, 0, '1'}
end
local available = tonumber(level[1])
local reserved = tonumber(level[2] or '0')
local taken = quantity
if available < quantity then
  -- Stock held by an expired reservation is not really gone: let the caller return it first,
  -- so the shortfall stored below is never larger than it really is.
  if sweepCheck == '1' and #redis.call('ZRANGEBYSCORE', reservationsKey, '-inf', now, 'LIMIT', 0, 1) > 0 then
    return {11, 0, ''}
  end
  taken = available
end

if taken == 0 then
  local detail = '1,' .. int(available) .. ',' .. int(quantity)
  redis.call('HSET', recordKey, 'k', 'deduct', 'q', fingerprint, 'c', 1, 'r', detail)
  redis.call('PEXPIRE', recordKey, recordTtl)
  return {1, 0, detail}
end

local after = available - taken
local version = tonumber(level[3] or '0') + 1
redis.call('HSET', stockKey, 'available', after, 'version', version)
local detail = int(after) .. ',' .. int(version) .. ',' .. int(taken)
redis.call('HSET', recordKey, 'k', 'deduct', 'q', fingerprint, 'c', 0, 'r', detail, 'l', sku .. ' ' .. int(taken))
redis.call('PEXPIRE', recordKey, recordTtl)
redis.call('XADD', streamKey, '*', 'op', operationId, 'k', 'deduct', 't', now,
  's', sku, 'd', -taken, 'r', 0, 'a', after, 'h', reserved, 'v', version)
return {0, 0, detail}
