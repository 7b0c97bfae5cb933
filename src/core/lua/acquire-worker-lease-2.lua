--[[
  Takes a Snowflake worker id if nobody holds it, and hands over the previous owners' watermark.

  KEYS[1] lease key      string: the owner token, expiring after the lease ttl
  KEYS[2] watermark key  string: Unix ms; ids of earlier owners of this worker id all carry
                         timestamps <= this value, so the new owner starts strictly after it

  ARGV[1] owner token (hostname:pid:random)
  ARGV[2] lease ttl, ms
  ARGV[3] valid-until, Unix ms: the latest timestamp this owner may issue before renewing
  ARGV[4] watermark ttl, ms

  Returns {1, previous watermark (-1 when none)} when acquired, {0, -1} when another owner holds it.
]]
local leaseKey = KEYS[1]
local watermarkKey = KEYS[2]
local owner = ARGV[1]
local ttlMs = ARGV[2]
local validUntil = ARGV[3]
local watermarkTtlMs = ARGV[4]

if not redis.call('SET', leaseKey, owner, 'NX', 'PX', ttlMs) then
  return {0, -1}
end

local previous = tonumber(redis.call('GET', watermarkKey) or '-1')
-- Written before any id is issued, so a crash right now still leaves a safe watermark behind.
if tonumber(validUntil) > previous then
  redis.call('SET', watermarkKey, validUntil, 'PX', watermarkTtlMs)
else
  redis.call('PEXPIRE', watermarkKey, watermarkTtlMs)
end
return {1, previous}
