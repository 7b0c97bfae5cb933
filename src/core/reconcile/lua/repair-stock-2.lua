--[[
  Reconcile's repair of one SKU: moves Redis by exactly the drift found in a snapshot, so that it
  holds the durable truth again (MySQL plus the ledger entries not applied yet).

  The caller read the SKU (`seen`) and the stream's last id (`snapshot id`) in one atomic step,
  and worked out what Redis should have held then (`expected`). Sales and every other change
  made through the scripts since then each appended an entry, with the SKU's quantities after
  the change and a version one higher: this script walks those entries from `seen` and checks
  that they lead exactly to what the hash holds now (a versioned compare-and-set across the
  changes in between). They moved the truth and Redis alike, so the drift is unchanged: Redis
  becomes `expected` plus what they changed. Nothing made in between is overwritten. A change
  made behind the scripts' back since the read breaks the chain: the repair refuses, and the
  caller reads again.

  The entry it appends has kind 'load' (Redis reloaded from the truth) and moves MySQL by
  nothing (d 0, r 0): MySQL already holds the truth, only Redis had drifted. A drain of any
  version reads it; the ledger keeps it as the record of the repair.

  KEYS[1] change stream
  KEYS[2] stock hash        available, reserved, version (exists when it has `available`)

  ARGV[1] now, Unix ms
  ARGV[2] operation id (the ledger's key; unique per repair)
  ARGV[3] sku
  ARGV[4] snapshot id: the stream's last id when `seen` was read
  ARGV[5] seen: "version,available,reserved" (a missing field reads 0), "" when the SKU did not exist
  ARGV[6] expected available at the snapshot
  ARGV[7] expected reserved at the snapshot
  ARGV[8] version floor: the new version is at least this (a recreated SKU continues after
          every version the ledger has seen)
  ARGV[9] most entries to walk; more means too busy to check now

  Returns {code, detail}:
    0  OK                "available,reserved,version" after the repair
    1  NEGATIVE          "available,reserved": the truth after the changes in between is below
                         zero (sold beyond it while Redis was drifted); nothing written
    4  CONFLICT          why: "changed" (not what the entries lead to), "created" (the SKU
                         appeared), "busy" (too many entries); nothing written
]]
local streamKey = KEYS[1]
local stockKey = KEYS[2]
local now = ARGV[1]
local operationId = ARGV[2]
local sku = ARGV[3]
local snapshotId = ARGV[4]
local seen = ARGV[5]
local expectedAvailable = tonumber(ARGV[6])
local expectedReserved = tonumber(ARGV[7])
local versionFloor = tonumber(ARGV[8])
local maxEntries = tonumber(ARGV[9])

-- Stream entry fields: op <id> k <kind> t <now>, then per SKU s d r a h v (12 fields a line).
local FIRST_LINE = 7
local LINE_FIELDS = 12

local function int(n)
  return string.format('%d', n)
end

local level = redis.call('HMGET', stockKey, 'available', 'reserved', 'version')
local current = ''
if level[1] then
  current = int(tonumber(level[3] or '0')) .. ',' .. int(tonumber(level[1])) .. ',' .. int(tonumber(level[2] or '0'))
end

local entries = redis.call('XRANGE', streamKey, '(' .. snapshotId, '+', 'COUNT', maxEntries + 1)
if #entries > maxEntries then
  return {4, 'busy'}
end

local version, available, reserved = 0, 0, 0
if seen ~= '' then
  local parts = {}
  for part in string.gmatch(seen, '[^,]+') do
    parts[#parts + 1] = tonumber(part)
  end
  version, available, reserved = parts[1], parts[2], parts[3]
end
local seenAvailable, seenReserved = available, reserved

for _, entry in ipairs(entries) do
  local fields = entry[2]
  for i = FIRST_LINE, #fields, LINE_FIELDS do
    if fields[i + 1] == sku then
      if seen == '' then
        return {4, 'created'}
      end
      local delta = tonumber(fields[i + 3])
      local reservedDelta = tonumber(fields[i + 5])
      local nextAvailable = tonumber(fields[i + 7])
      local nextReserved = tonumber(fields[i + 9])
      local nextVersion = tonumber(fields[i + 11])
      if nextVersion ~= version + 1 or nextAvailable ~= available + delta - reservedDelta
        or nextReserved ~= reserved + reservedDelta then
        return {4, 'changed'}
      end
      version, available, reserved = nextVersion, nextAvailable, nextReserved
    end
  end
end

local reached = ''
if seen ~= '' then
  reached = int(version) .. ',' .. int(available) .. ',' .. int(reserved)
end
if reached ~= current then
  return {4, 'changed'}
end

local targetAvailable = expectedAvailable + (available - seenAvailable)
local targetReserved = expectedReserved + (reserved - seenReserved)
if targetAvailable < 0 or targetReserved < 0 then
  return {1, int(targetAvailable) .. ',' .. int(targetReserved)}
end
version = version + 1
if version < versionFloor then
  version = versionFloor
end
redis.call('HSET', stockKey, 'available', targetAvailable, 'reserved', targetReserved, 'version', version)
redis.call('XADD', streamKey, '*', 'op', operationId, 'k', 'load', 't', now,
  's', sku, 'd', 0, 'r', 0, 'a', targetAvailable, 'h', targetReserved, 'v', version)
return {0, int(targetAvailable) .. ',' .. int(targetReserved) .. ',' .. int(version)}
