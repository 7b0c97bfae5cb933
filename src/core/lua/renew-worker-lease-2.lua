--[[
  Extends a Snowflake worker id lease, only for its owner.

  KEYS[1] lease key      string: the owner token
  KEYS[2] watermark key  string: Unix ms, the highest timestamp any owner may have issued

  ARGV[1] owner token
  ARGV[2] lease ttl, ms
  ARGV[3] valid-until, Unix ms: the latest timestamp this owner may issue before the next renewal
  ARGV[4] watermark ttl, ms

  Returns 1 when renewed, 0 when the lease is no longer this owner's (expired or taken): lost.
]]
local leaseKey = KEYS[1]
local watermarkKey = KEYS[2]
local owner = ARGV[1]
local ttlMs = ARGV[2]
local validUntil = ARGV[3]
local watermarkTtlMs = ARGV[4]

if redis.call('GET', leaseKey) ~= owner then
  return 0
end

redis.call('PEXPIRE', leaseKey, ttlMs)
local current = tonumber(redis.call('GET', watermarkKey) or '-1')
if tonumber(validUntil) > current then
  redis.call('SET', watermarkKey, validUntil, 'PX', watermarkTtlMs)
else
  redis.call('PEXPIRE', watermarkKey, watermarkTtlMs)
end
return 1
