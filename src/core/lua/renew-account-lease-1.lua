--[[
  Extends an account's sync lease, only for the holder that took it.

  KEYS[1] lease key    string: "<fencing token>:<owner>"

  ARGV[1] lease value returned by acquire (token and owner: a later holder never matches)
  ARGV[2] lease ttl, ms

  Returns 1 when renewed, 0 when the lease expired or belongs to another holder now (lost).
]]
local leaseKey = KEYS[1]
local value = ARGV[1]
local ttlMs = ARGV[2]

if redis.call('GET', leaseKey) ~= value then
  return 0
end
redis.call('PEXPIRE', leaseKey, ttlMs)
return 1
