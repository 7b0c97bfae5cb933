--[[
  Gives a Snowflake worker id back, only for its owner, leaving the exact watermark behind.

  KEYS[1] lease key      string: the owner token
  KEYS[2] watermark key  string: Unix ms

  ARGV[1] owner token
  ARGV[2] last timestamp issued, Unix ms (not lower than the watermark this owner started after);
          -1 when neither this owner nor an earlier one issued anything
  ARGV[3] watermark ttl, ms

  The owner has stopped issuing, so its last timestamp replaces the valid-until bound it wrote
  while running: the next owner can start right away instead of waiting out that bound.

  Returns 1 when released, 0 when the lease was no longer this owner's (nothing changed).
]]
local leaseKey = KEYS[1]
local watermarkKey = KEYS[2]
local owner = ARGV[1]
local lastIssued = ARGV[2]
local watermarkTtlMs = ARGV[3]

if redis.call('GET', leaseKey) ~= owner then
  return 0
end

if tonumber(lastIssued) < 0 then
  redis.call('DEL', watermarkKey)
else
  redis.call('SET', watermarkKey, lastIssued, 'PX', watermarkTtlMs)
end
redis.call('DEL', leaseKey)
return 1
