--[[
  Gives an account's sync lease back, only for the holder that took it.

  KEYS[1] lease key    string: "<fencing token>:<owner>"

  ARGV[1] lease value returned by acquire

  The fence counter is left alone: the next holder's token must still be larger.

  Returns 1 when released, 0 when the lease was no longer this holder's (nothing changed).
]]
local leaseKey = KEYS[1]
local value = ARGV[1]

if redis.call('GET', leaseKey) ~= value then
  return 0
end
redis.call('DEL', leaseKey)
return 1
