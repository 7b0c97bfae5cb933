--[[
  Takes the sync lease of one platform account if nobody holds it, with a new fencing token.

  KEYS[1] lease key    string: "<fencing token>:<owner>", expiring after the lease ttl
  KEYS[2] fence key    string: integer counter, never expires; the last token handed out

  ARGV[1] owner (hostname:pid:random)
  ARGV[2] lease ttl, ms

  The token is taken (INCR) only when the lease is, so every holder of the lease has a larger
  token than every earlier holder: checkpoint writes compare it and refuse an older one.

  Returns {1, token, lease value} when acquired,
          {0, holder's lease value, holder's remaining ttl in ms} when someone else holds it.
]]
local leaseKey = KEYS[1]
local fenceKey = KEYS[2]
local owner = ARGV[1]
local ttlMs = ARGV[2]

local holder = redis.call('GET', leaseKey)
if holder then
  return {0, holder, redis.call('PTTL', leaseKey)}
end

local token = redis.call('INCR', fenceKey)
local value = token .. ':' .. owner
redis.call('SET', leaseKey, value, 'PX', ttlMs)
return {1, token, value}
