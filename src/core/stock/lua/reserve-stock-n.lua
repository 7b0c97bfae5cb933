--[[
  Holds stock for a checkout: every line moves from available to reserved, or none does, and the
  reservation is indexed by its expiry so the sweep returns it if it is neither confirmed nor
  released in time. The reservation id is an operation id: a repeat returns the first answer.

  KEYS[1]     reservation record  hash: k 'reserve', q fingerprint, c code, r detail, l lines,
                                        s state (held|confirmed|released|expired), x expiry ms
  KEYS[2]     change stream
  KEYS[3]     reservations        zset: held reservation id -> expiry ms
  KEYS[4..]   stock hash of each line, in line order

  ARGV[1]     now, Unix ms
  ARGV[2]     reservation id
  ARGV[3]     record ttl, ms (kept this long after the expiry)
  ARGV[4]     request fingerprint
  ARGV[5]     '1': answer SWEEP_NEEDED while an expired reservation waits (see deduct-stock)
  ARGV[6]     hold time, ms
  ARGV[7..]   per line: sku, quantity (positive integer), in line order

  Returns {code, replayed (0|1), detail}:
    0  OK            "expiry,available,version,…" (available after the hold, per line) stored
    1  INSUFFICIENT  "line,available,requested"                                     stored
    2  UNKNOWN_SKU   "line"                                                         not stored
    3  OP_CONFLICT   kind of the stored operation                                   not stored
    11 SWEEP_NEEDED  ""                                                             not stored
]]
local recordKey = KEYS[1]
local streamKey = KEYS[2]
local reservationsKey = KEYS[3]
local now = tonumber(ARGV[1])
local reservationId = ARGV[2]
local recordTtl = tonumber(ARGV[3])
local fingerprint = ARGV[4]
local sweepCheck = ARGV[5]
local holdMs = tonumber(ARGV[6])
local FIRST_STOCK_KEY = 4
local FIRST_LINE_ARG = 7
local lineCount = #KEYS - FIRST_STOCK_KEY + 1

if lineCount < 1 or #ARGV ~= FIRST_LINE_ARG - 1 + 2 * lineCount then
  return redis.error_reply('reserve-stock: KEYS and ARGV disagree on the number of lines')
end

local function int(n)
  return string.format('%d', n)
end

local stored = redis.call('HMGET', recordKey, 'k', 'q', 'c', 'r')
if stored[1] then
  if stored[1] ~= 'reserve' or stored[2] ~= fingerprint then
    return {3, 0, stored[1]}
  end
  return {tonumber(stored[3]), 1, stored[4]}
end

local levels = {}
for i = 1, lineCount do
  local quantity = tonumber(ARGV[FIRST_LINE_ARG + 2 * i - 1])
  local level = redis.call('HMGET', KEYS[FIRST_STOCK_KEY + i - 1], 'available', 'reserved', 'version')
  if not level[1] then
    return {2, 0, int(i)}
  end
  local available = tonumber(level[1])
  if available < quantity then
    if sweepCheck == '1' and #redis.call('ZRANGEBYSCORE', reservationsKey, '-inf', now, 'LIMIT', 0, 1) > 0 then
      return {11, 0, ''}
    end
    local detail = int(i) .. ',' .. int(available) .. ',' .. int(quantity)
    redis.call('HSET', recordKey, 'k', 'reserve', 'q', fingerprint, 'c', 1, 'r', detail)
    redis.call('PEXPIRE', recordKey, recordTtl)
    return {1, 0, detail}
  end
  levels[i] = {available - quantity, tonumber(level[2] or '0') + quantity, tonumber(level[3] or '0') + 1, quantity}
end

local expiry = now + holdMs
local entry = {'op', reservationId, 'k', 'reserve', 't', int(now)}
local reply = {int(expiry)}
local applied = {}
for i = 1, lineCount do
  local level = levels[i]
  local sku = ARGV[FIRST_LINE_ARG + 2 * i - 2]
  redis.call('HSET', KEYS[FIRST_STOCK_KEY + i - 1], 'available', level[1], 'reserved', level[2], 'version', level[3])
  local n = #entry
  entry[n + 1] = 's'
  entry[n + 2] = sku
  entry[n + 3] = 'd'
  entry[n + 4] = 0
  entry[n + 5] = 'r'
  entry[n + 6] = level[4]
  entry[n + 7] = 'a'
  entry[n + 8] = level[1]
  entry[n + 9] = 'h'
  entry[n + 10] = level[2]
  entry[n + 11] = 'v'
  entry[n + 12] = level[3]
  reply[2 * i] = int(level[1])
  reply[2 * i + 1] = int(level[3])
  applied[2 * i - 1] = sku
  applied[2 * i] = int(level[4])
end

local detail = table.concat(reply, ',')
redis.call('HSET', recordKey, 'k', 'reserve', 'q', fingerprint, 'c', 0, 'r', detail,
  'l', table.concat(applied, ' '), 's', 'held', 'x', int(expiry))
redis.call('PEXPIRE', recordKey, holdMs + recordTtl)
redis.call('ZADD', reservationsKey, expiry, reservationId)
redis.call('XADD', streamKey, '*', unpack(entry))
return {0, 0, detail}
