--[[
  Deducts every line of one order, or none: all lines are checked before any is changed, and
  the whole script runs as one atomic step. Idempotent by operation id: a repeat returns the
  first answer (success or insufficient stock) and changes nothing.

  KEYS[1]     operation record  hash: k kind, q fingerprint, c code, r detail, l lines
  KEYS[2]     change stream     one entry per applied operation (fields in docs/stock.md)
  KEYS[3]     reservations      zset: held reservation id -> expiry ms (read only here)
  KEYS[4..]   stock hash of each line, in line order: available, reserved, version

  ARGV[1]     now, Unix ms (the caller's clock)
  ARGV[2]     operation id
  ARGV[3]     record ttl, ms (the idempotency window)
  ARGV[4]     request fingerprint (a repeat with another request is a conflict)
  ARGV[5]     '1': while an expired reservation waits for the sweep, answer SWEEP_NEEDED instead
              of INSUFFICIENT (nothing is stored; the caller sweeps and asks again)
  ARGV[6..]   per line: sku, quantity (positive integer), in line order

  Returns {code, replayed (0|1), detail}:
    0  OK            "available,version" per line after the deduction, comma-joined    stored
    1  INSUFFICIENT  "line,available,requested" (line 1-based)                        stored
    2  UNKNOWN_SKU   "line": that line's SKU has no stock key                          not stored
    3  OP_CONFLICT   kind of the stored operation: the id was used for another request not stored
    11 SWEEP_NEEDED  ""                                                                not stored
]]
local recordKey = KEYS[1]
local streamKey = KEYS[2]
local reservationsKey = KEYS[3]
local now = ARGV[1]
local operationId = ARGV[2]
local recordTtl = ARGV[3]
local fingerprint = ARGV[4]
local sweepCheck = ARGV[5]
local FIRST_STOCK_KEY = 4
local FIRST_LINE_ARG = 6
local lineCount = #KEYS - FIRST_STOCK_KEY + 1

if lineCount < 1 or #ARGV ~= FIRST_LINE_ARG - 1 + 2 * lineCount then
  return redis.error_reply('deduct-stock: KEYS and ARGV disagree on the number of lines')
end

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

-- Check every line first: nothing is written unless all of them can be served.
local levels = {}
for i = 1, lineCount do
  local stockKey = KEYS[FIRST_STOCK_KEY + i - 1]
  local quantity = tonumber(ARGV[FIRST_LINE_ARG + 2 * i - 1])
  local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
  if not level[1] then
    return {2, 0, int(i)}
  end
  local available = tonumber(level[1])
  if available < quantity then
    -- Stock held by a reservation that has expired is not really gone: let the caller return
    -- it first, so the answer stored below is never a false "sold out".
    if sweepCheck == '1' and #redis.call('ZRANGEBYSCORE', reservationsKey, '-inf', now, 'LIMIT', 0, 1) > 0 then
      return {11, 0, ''}
    end
    local detail = int(i) .. ',' .. int(available) .. ',' .. int(quantity)
    redis.call('HSET', recordKey, 'k', 'deduct', 'q', fingerprint, 'c', 1, 'r', detail)
    redis.call('PEXPIRE', recordKey, recordTtl)
    return {1, 0, detail}
  end
  levels[i] = {available - quantity, tonumber(level[2] or '0'), tonumber(level[3] or '0') + 1, quantity}
end

local entry = {'op', operationId, 'k', 'deduct', 't', now}
local reply = {}
local applied = {}
for i = 1, lineCount do
  local level = levels[i]
  local sku = ARGV[FIRST_LINE_ARG + 2 * i - 2]
  redis.call('HSET', KEYS[FIRST_STOCK_KEY + i - 1], 'available', level[1], 'version', level[3])
  local n = #entry
  entry[n + 1] = 's'
  entry[n + 2] = sku
  entry[n + 3] = 'd'
  entry[n + 4] = -level[4]
  entry[n + 5] = 'r'
  entry[n + 6] = 0
  entry[n + 7] = 'a'
  entry[n + 8] = level[1]
  entry[n + 9] = 'h'
  entry[n + 10] = level[2]
  entry[n + 11] = 'v'
  entry[n + 12] = level[3]
  reply[2 * i - 1] = int(level[1])
  reply[2 * i] = int(level[3])
  applied[2 * i - 1] = sku
  applied[2 * i] = int(level[4])
end

local detail = table.concat(reply, ',')
redis.call('HSET', recordKey, 'k', 'deduct', 'q', fingerprint, 'c', 0, 'r', detail, 'l', table.concat(applied, ' '))
redis.call('PEXPIRE', recordKey, recordTtl)
redis.call('XADD', streamKey, '*', unpack(entry))
return {0, 0, detail}
