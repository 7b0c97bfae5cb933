--[[
  Removes consumers of the ledger group that died long ago (each restart of a drain joins under a
  new name), but only those with no pending entries: deleting a consumer drops its pending
  entries from the group, which would lose them. The check and the delete are one atomic step,
  so a consumer cannot take an entry in between.

  KEYS[1] change stream

  ARGV[1] consumer group
  ARGV[2] the calling consumer (never removed)
  ARGV[3] minimum idle time, ms

  Returns the number of consumers removed.
]]
local streamKey = KEYS[1]
local group = ARGV[1]
local self = ARGV[2]
local minIdle = tonumber(ARGV[3])

local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', streamKey, group)) do
  local info = {}
  for i = 1, #consumer, 2 do
    info[consumer[i]] = consumer[i + 1]
  end
  if info['name'] ~= self and tonumber(info['pending']) == 0 and tonumber(info['idle']) >= minIdle then
    redis.call('XGROUP', 'DELCONSUMER', streamKey, group, info['name'])
    removed = removed + 1
  end
end
return removed
