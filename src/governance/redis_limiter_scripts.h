// The Lua scripts behind the Redis limiter (internal header). Each runs
// atomically in Redis, so a check and its consumption cannot interleave with
// another instance's. Time is Redis's TIME in microseconds; limits, periods
// and costs come in ARGV (never in key names), so a changed limit keeps its
// bucket. Every number written goes through string.format('%d') so that
// large values keep all their digits.
//
// Rate buckets hold a GCRA theoretical arrival time (unix µs) and expire
// once full; budget counters hold integer micro-dollars and expire a day
// after their window ends. A counter below its seed (the spend the database
// ledger has for the window) is taken at the seed: charges made while Redis
// was unreachable, or lost with a Redis restart, come back from the ledger.
// The arithmetic matches LocalLimiter's.
#pragma once

namespace sy::gov::redis_scripts {

// Defines interval(), store() and `now`; each script below that needs them
// runs kPrelude + its own text.
// interval: cost * period / limit in µs, rounded toward zero, exact while
// |cost| * (period % limit) stays below 2^53.
// (replicate_commands: Redis 3.2 to 4 need it before TIME and writes; later
// versions always replicate effects and ignore it.)
inline constexpr const char kPrelude[] = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local MAX_SPAN = 1e17
local function interval(cost, limit, period)
  local q = math.floor(period / limit)
  local r = period - q * limit
  if r < 0 then q = q - 1; r = r + limit elseif r >= limit then q = q + 1; r = r - limit end
  local c = math.abs(cost)
  local span = math.min(c * q + math.floor(c * r / limit), MAX_SPAN)
  if cost < 0 then return -span end
  return span
end
local function store(key, tat, now)
  if tat > now then
    redis.call('SET', key, string.format('%d', tat), 'PX', string.format('%d', math.floor((tat - now) / 1000) + 1))
  else
    redis.call('DEL', key)
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
)lua";

// After kPrelude. KEYS: the rate buckets, then the budget counters.
// ARGV: number of rate buckets; limit, period_us, cost per bucket; limit,
// seed per counter (limit < 0: none).
// Returns {allowed 0/1, denied rate index or -1, denied budget index or -1,
// retry_after_ms, remaining and reset_ms per bucket..., spent per counter...}.
inline constexpr const char kAdmit[] = R"lua(
local nr = tonumber(ARGV[1])
local before, after, valid, chain = {}, {}, {}, {}
local worst, denied_rate, denied_budget = 0, -1, -1
for i = 1, nr do
  local a = 2 + (i - 1) * 3
  local limit, period, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '') or 0
  if tat < now then tat = now end
  before[i], after[i] = tat, tat
  valid[i] = limit > 0 and period > 0
  if valid[i] then
    local nt = (chain[KEYS[i]] or tat) + interval(cost, limit, period)
    if nt < now then nt = now end
    if nt > now + MAX_SPAN then nt = now + MAX_SPAN end
    local wait = nt - period - now
    if wait > worst then worst, denied_rate = wait, i - 1 end
    after[i], chain[KEYS[i]] = nt, nt
  end
end
local spent = {}
for j = 1, #KEYS - nr do
  local a = 2 + nr * 3 + (j - 1) * 2
  local limit, seed = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local v = math.max(tonumber(redis.call('GET', KEYS[nr + j]) or '') or seed, seed)
  spent[j] = v
  if limit >= 0 and v >= limit and denied_budget < 0 then denied_budget = j - 1 end
end
local allowed = denied_rate < 0 and denied_budget < 0
local out = {allowed and 1 or 0, denied_rate, denied_budget, 0}
if denied_rate >= 0 then out[4] = math.ceil(worst / 1000) end
for i = 1, nr do
  local a = 2 + (i - 1) * 3
  local limit, period = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local tat = before[i]
  if allowed then tat = after[i] end
  if allowed and valid[i] then store(KEYS[i], tat, now) end
  local remaining, reset = 0, 0
  if valid[i] then
    local room = now + period - tat
    if room > 0 then remaining = math.min(limit, math.floor(room * limit / period)) end
    if tat > now then reset = math.ceil((tat - now) / 1000) end
  end
  out[#out + 1] = remaining
  out[#out + 1] = reset
end
for j = 1, #spent do out[#out + 1] = spent[j] end
return out
)lua";

// After kPrelude. KEYS: rate buckets. ARGV: limit, period_us, cost per bucket.
// Adds each cost without a check; a refund never takes a TAT below now.
inline constexpr const char kAdjust[] = R"lua(
for i = 1, #KEYS do
  local a = 1 + (i - 1) * 3
  local limit, period, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if limit > 0 and period > 0 and cost ~= 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '') or 0
    if tat < now then tat = now end
    local nt = tat + interval(cost, limit, period)
    if nt < now then nt = now end
    if nt > now + MAX_SPAN then nt = now + MAX_SPAN end
    store(KEYS[i], nt, now)
  end
end
return #KEYS
)lua";

// On its own. KEYS: budget counters. ARGV: amount; seed, window_end_ms per counter.
// Returns the spend of each counter after the charge.
inline constexpr const char kCharge[] = R"lua(
local out = {}
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 2
  local cur = tonumber(redis.call('GET', KEYS[i]) or '')
  if cur == nil or cur < tonumber(ARGV[a]) then redis.call('SET', KEYS[i], ARGV[a]) end
  out[i] = redis.call('INCRBY', KEYS[i], ARGV[1])
  local window_end = tonumber(ARGV[a + 1])
  if window_end > 0 then
    redis.call('PEXPIREAT', KEYS[i], string.format('%d', window_end + 86400000))
  end
end
return out
)lua";

}  // namespace sy::gov::redis_scripts
