--[[
  Corrects a shared token bucket from what the platform reported, or reads it.

  KEYS[1] bucket key  hash: tokens, ts, pausedUntil (see take-tokens-1.lua)

  ARGV[1] now, Unix ms
  ARGV[2] rate: tokens added per second
  ARGV[3] burst: bucket size
  ARGV[4] cap: the platform says at most this many tokens are left; -1 for no cap
  ARGV[5] pause ms: the platform throttled us (429): empty the bucket and grant nothing for this
          long, counting refills only from the end of the pause; 0 for no pause

  With cap -1 and pause 0 it only refills and reads. Returns the tokens left, as text.
]]
local bucketKey = KEYS[1]
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local pauseMs = tonumber(ARGV[5])

local state = redis.call('HMGET', bucketKey, 'tokens', 'ts', 'pausedUntil')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
local pausedUntil = tonumber(state[3]) or 0

if now > ts then
  tokens = tokens + (now - ts) * rate / 1000
  ts = now
end
if tokens > burst then
  tokens = burst
end
if cap >= 0 and tokens > cap then
  tokens = cap
end
if pauseMs > 0 then
  tokens = 0
  if now + pauseMs > pausedUntil then
    pausedUntil = now + pauseMs
  end
  if pausedUntil > ts then
    ts = pausedUntil
  end
end

redis.call('HSET', bucketKey, 'tokens', tostring(tokens), 'ts', tostring(ts), 'pausedUntil', tostring(pausedUntil))
-- Full again once refilling resumes and the missing tokens have accrued; an absent key means the same.
local fullInMs = math.max(pausedUntil - now, ts - now, 0) + (burst - tokens) * 1000 / rate
redis.call('PEXPIRE', bucketKey, math.ceil(fullInMs) + 1000)

return tostring(tokens)
