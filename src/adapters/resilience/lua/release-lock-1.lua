--[[
  Releases a lock only for the owner that took it (a lock that expired and was taken by another
  process meanwhile stays theirs).

  KEYS[1] lock key  string: the owner token, set with SET NX PX

  ARGV[1] owner token

  Returns 1 when released, 0 when the lock was no longer this owner's.
]]
local lockKey = KEYS[1]
local owner = ARGV[1]

if redis.call('GET', lockKey) == owner then
  return redis.call('DEL', lockKey)
end
return 0
