--[[
  Deletes a lock or lease key only for the owner that set it: a key that expired and was taken by
  another process meanwhile stays theirs. Shared by the account sync lease and the token-refresh
  lock.

  KEYS[1] lock key  string: the owner's value, set with SET NX PX

  ARGV[1] the owner's value (as returned when the key was taken)

  Returns 1 when released, 0 when the key was no longer this owner's (nothing changed).
]]
local lockKey = KEYS[1]
local owner = ARGV[1]

if redis.call('GET', lockKey) == owner then
  return redis.call('DEL', lockKey)
end
return 0
