--[[
  Takes tokens from a token bucket shared by every process calling one platform account's
  operation class, after refilling it for the time passed since the last call.

  KEYS[1] bucket key  hash: tokens       tokens left (float, as text)
                            ts           Unix ms the tokens were counted at
                            pausedUntil  Unix ms before which nothing is granted (set after a 429)
                      A missing key is a full bucket, so the key simply expires once the bucket
                      would be full again: no state to lose, nothing to re-initialise.

  ARGV[1] now, Unix ms (the caller's clock: time passed in, so tests can drive it)
  ARGV[2] weight: tokens this call costs
  ARGV[3] rate: tokens added per second
  ARGV[4] burst: bucket size

  Returns {1, 0, tokens left} when granted, {0, wait ms, tokens left} when not: the wait is the
  earliest moment worth asking again (end of a pause, or when enough tokens will have accrued).
  Tokens travel as text: Redis would truncate a Lua number to an integer.
]]
local bucketKey = KEYS[1]
local now = tonumber(ARGV[1])
local weight = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])

local state = redis.call('HMGET', bucketKey, 'tokens', 'ts', 'pausedUntil')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
local pausedUntil = tonumber(state[3]) or 0

-- A caller whose clock is behind the last writer's adds nothing: the bucket never refills twice
-- for the same span of time, whatever the skew between hosts.
if now > ts then
  tokens = tokens + (now - ts) * rate / 1000
  ts = now
end
if tokens > burst then
  tokens = burst
end

local granted = 0
local wait = 0
if now < pausedUntil then
  wait = pausedUntil - now
elseif tokens >= weight then
  tokens = tokens - weight
  granted = 1
else
  wait = math.ceil((weight - tokens) * 1000 / rate)
end

redis.call('HSET', bucketKey, 'tokens', tostring(tokens), 'ts', tostring(ts), 'pausedUntil', tostring(pausedUntil))
-- Full again once refilling resumes and the missing tokens have accrued; an absent key means the same.
local fullInMs = math.max(pausedUntil - now, ts - now, 0) + (burst - tokens) * 1000 / rate
redis.call('PEXPIRE', bucketKey, math.ceil(fullInMs) + 1000)

return {granted, wait, tostring(tokens)}
