--[[
  Ends a held reservation, exactly once: confirm turns the hold into a sale, release and expire
  give it back to available. A reservation leaves the `held` state only here, inside one atomic
  step, so whichever of confirm, release or the sweep comes first wins and the others see it.
  Past its expiry a reservation can only expire: a late confirm expires it on the spot
  (returning its stock) and fails, a late release expires it and succeeds.

  KEYS[1]     reservation record  hash (see reserve-stock); this script sets s state and
                                  sr the settle detail
  KEYS[2]     change stream
  KEYS[3]     reservations        zset: held reservation id -> expiry ms
  KEYS[4..]   stock hash of each reserved line, in the order of the record's `l` field

  ARGV[1]     now, Unix ms
  ARGV[2]     reservation id
  ARGV[3]     action: confirm | release | expire

  Returns {code, replayed (0|1), detail}; detail "state,available,version,…" is the settled
  state and the stock after it per line (replayed: as stored when it was settled):
    0  OK                 the reservation is confirmed (confirm), released or expired (release,
                          expire); replayed 1 when it already was
    3  OP_CONFLICT        kind of the operation stored under this id
    6  NOT_FOUND          "" (no record: unknown or past its retention), "refused" (the reserve
                          was answered INSUFFICIENT, so nothing is held)
    7  EXPIRED            confirm after the expiry; detail as for OK
    8  SETTLED            "confirmed" (release of a sale) or "released" (confirm after release)
    12 NOT_DUE            expire of a reservation that is still within its time
    13 STALE_KEYS         KEYS do not match the record's lines (read them again)
]]
local recordKey = KEYS[1]
local streamKey = KEYS[2]
local reservationsKey = KEYS[3]
local now = tonumber(ARGV[1])
local reservationId = ARGV[2]
local action = ARGV[3]
local FIRST_STOCK_KEY = 4

local function int(n)
  return string.format('%d', n)
end

local record = redis.call('HMGET', recordKey, 'k', 'c', 's', 'x', 'l', 'sr')
local kind, code, state, expiry, lines, settled = record[1], record[2], record[3], tonumber(record[4]), record[5], record[6]
if not kind then
  -- Nothing to settle; an index entry without its record (removed by hand) would otherwise be
  -- found by every sweep forever.
  redis.call('ZREM', reservationsKey, reservationId)
  return {6, 0, ''}
end
if kind ~= 'reserve' then
  return {3, 0, kind}
end
if code ~= '0' then
  return {6, 0, 'refused'}
end

if state ~= 'held' then
  -- Settled before: the index entry may still be there if an older version left it; drop it.
  redis.call('ZREM', reservationsKey, reservationId)
  if action == 'confirm' then
    if state == 'confirmed' then return {0, 1, settled} end
    if state == 'expired' then return {7, 1, settled} end
    return {8, 1, state}
  elseif action == 'release' then
    if state == 'confirmed' then return {8, 1, state} end
    return {0, 1, settled}
  end
  return {0, 1, settled}
end

local due = now >= expiry
if action == 'expire' and not due then
  return {12, 0, ''}
end

local parsed = {}
for word in string.gmatch(lines, '%S+') do
  parsed[#parsed + 1] = word
end
local lineCount = #parsed / 2
if #KEYS - FIRST_STOCK_KEY + 1 ~= lineCount then
  return {13, 0, ''}
end

-- A confirm in time sells the held units, a release in time gives them back; past its time a
-- reservation has expired, whichever call (confirm, release, sweep) gets here first.
local confirming = action == 'confirm' and not due
local releasing = action == 'release' and not due
local newState = confirming and 'confirmed' or (releasing and 'released' or 'expired')
local ledgerKind = confirming and 'confirm' or (releasing and 'release' or 'expire')
local entry = {'op', reservationId, 'k', ledgerKind, 't', int(now)}
local reply = {newState}
for i = 1, lineCount do
  local stockKey = KEYS[FIRST_STOCK_KEY + i - 1]
  local sku = parsed[2 * i - 1]
  local quantity = tonumber(parsed[2 * i])
  local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
  local available = tonumber(level[1] or '0')
  local reserved = tonumber(level[2] or '0') - quantity
  local version = tonumber(level[3] or '0') + 1
  local onHandDelta = -quantity
  if not confirming then
    available = available + quantity
    onHandDelta = 0
  end
  redis.call('HSET', stockKey, 'available', available, 'reserved', reserved, 'version', version)
  local n = #entry
  entry[n + 1] = 's'
  entry[n + 2] = sku
  entry[n + 3] = 'd'
  entry[n + 4] = onHandDelta
  entry[n + 5] = 'r'
  entry[n + 6] = -quantity
  entry[n + 7] = 'a'
  entry[n + 8] = available
  entry[n + 9] = 'h'
  entry[n + 10] = reserved
  entry[n + 11] = 'v'
  entry[n + 12] = version
  reply[2 * i] = int(available)
  reply[2 * i + 1] = int(version)
end

local detail = table.concat(reply, ',')
redis.call('HSET', recordKey, 's', newState, 'sr', detail)
redis.call('ZREM', reservationsKey, reservationId)
redis.call('XADD', streamKey, '*', unpack(entry))
if action == 'confirm' and not confirming then
  return {7, 0, detail}
end
return {0, 0, detail}
