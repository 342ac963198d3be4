import type { Redis } from "ioredis"

/**
 * The Lua scripts, one per operation, each atomic on the server. Times come
 * from the server's `TIME`, never from a host's clock, and every key written
 * gets a TTL so that idle budgets and cool-downs disappear. Numbers that may
 * have fractions go back as strings (Redis would truncate a Lua number).
 */

// Current server time in milliseconds.
const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

/** How many of a process's last withdrawals Redis keeps a record of, to take them back. */
export const WITHDRAWALS_KEPT = 1024

// The withdrawals of a process are numbered too. KEYS[2] of a withdrawal, a
// hash of that process, holds what each of its last withdrawals took, by
// number, and 'fence', the highest number the process gave up on (its answer
// did not come in time). A flush takes back what such a withdrawal took
// (\`take_back\`), and one that arrives after that is refused.
const WITHDRAWALS = `
local WITHDRAWALS_KEPT = ${WITHDRAWALS_KEPT}
local function withdrawal_open(key, seq)
  return tonumber(seq) > tonumber(redis.call('HGET', key, 'fence') or '0')
end
local function remember(key, seq, taken, ttl)
  redis.call('HSET', key, seq, taken)
  -- Those older than the last WITHDRAWALS_KEPT are dropped in one go, now and then.
  if redis.call('HLEN', key) > 2 * WITHDRAWALS_KEPT + 1 then
    local oldest = tonumber(seq) - WITHDRAWALS_KEPT
    for _, field in ipairs(redis.call('HKEYS', key)) do
      local number = tonumber(field)
      if number and number <= oldest then redis.call('HDEL', key, field) end
    end
  end
  redis.call('PEXPIRE', key, ttl)
end
local function take_back(key, seq, ttl)
  local taken = redis.call('HGET', key, seq)
  if taken then redis.call('HDEL', key, seq) end
  if tonumber(seq) > tonumber(redis.call('HGET', key, 'fence') or '0') then
    redis.call('HSET', key, 'fence', seq)
    redis.call('PEXPIRE', key, ttl)
  end
  return taken
end
`

// Token bucket: KEYS[1] holds the available tokens; a missing key is a full
// bucket. KEYS[2]: the process's withdrawals. ARGV: capacity, cost, ttl ms,
// withdrawal number. Returns { granted 0|1, available }.
const TOKEN_WITHDRAW = `${WITHDRAWALS}
local capacity = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local current = redis.call('GET', KEYS[1])
local available = capacity
if current then available = tonumber(current) end
if available < cost or not withdrawal_open(KEYS[2], ARGV[4]) then
  if current then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
  return { 0, tostring(available) }
end
available = available - cost
redis.call('SET', KEYS[1], tostring(available), 'PX', ARGV[3])
remember(KEYS[2], ARGV[4], ARGV[2], ARGV[3])
return { 1, tostring(available) }
`

// A batch a process sends is numbered; KEYS[2] holds the number of the last
// batch of that process applied. A batch sent again because its answer did
// not come in time (it may have been applied) is applied at most once.
const FIRST_TIME = `
local function first_time(seq_key, seq, ttl)
  if seq <= tonumber(redis.call('GET', seq_key) or '0') then return false end
  redis.call('SET', seq_key, string.format('%d', seq), 'PX', ttl)
  return true
end
`

// Token bucket refunds gathered in a process, as batch number ARGV[4], and
// the withdrawals it gave up on (ARGV[5] on), whose tokens come back.
// KEYS: bucket, batch number, withdrawals. ARGV: capacity, refund, ttl ms,
// batch, withdrawal numbers. Returns available.
const TOKEN_REFUND = `${FIRST_TIME}${WITHDRAWALS}
local capacity = tonumber(ARGV[1])
local refund = 0
if first_time(KEYS[2], tonumber(ARGV[4]), ARGV[3]) then refund = tonumber(ARGV[2]) end
for i = 5, #ARGV do refund = refund + tonumber(take_back(KEYS[3], ARGV[i], ARGV[3]) or '0') end
local current = redis.call('GET', KEYS[1])
if refund == 0 or not current then return current or tostring(capacity) end
local available = math.min(capacity, tonumber(current) + refund)
redis.call('SET', KEYS[1], tostring(available), 'PX', ARGV[3])
return tostring(available)
`

// Ratio budget: a hash of counts per slot, q:<slot> requests and r:<slot>
// retries; fields that have left the window are deleted as they are met.
const WINDOW = `${NOW}
local function window(key, slot_ms, slots)
  local now = now_ms()
  local slot = math.floor(now / slot_ms)
  local fields = redis.call('HGETALL', key)
  local requests, retries = 0, 0
  for i = 1, #fields, 2 do
    local name = fields[i]
    local at = tonumber(string.sub(name, 3))
    if at and at > slot - slots then
      if string.sub(name, 1, 1) == 'q' then
        requests = requests + tonumber(fields[i + 1])
      else
        retries = retries + tonumber(fields[i + 1])
      end
    else
      redis.call('HDEL', key, name)
    end
  end
  return slot, requests, retries, now
end
`

// KEYS: window, the process's withdrawals. ARGV: slot ms, slots, percent,
// reserve, ttl ms, withdrawal number. Returns { granted 0|1, available, capacity }.
const RATIO_WITHDRAW = `${WINDOW}${WITHDRAWALS}
local slot, requests, retries = window(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
local capacity = math.floor(requests * tonumber(ARGV[3]) / 100 + tonumber(ARGV[4]))
local available = capacity - retries
if available < 1 or not withdrawal_open(KEYS[2], ARGV[6]) then
  return { 0, math.max(0, available), capacity }
end
local field = 'r:' .. string.format('%d', slot)
redis.call('HINCRBY', KEYS[1], field, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
remember(KEYS[2], ARGV[6], field, ARGV[5])
return { 1, available - 1, capacity }
`

// Request counts gathered in a process, as batch number ARGV[6] (0: none, a
// snapshot), each count with how long ago (ms) its requests were made: they
// go to the slot they were made in, by the server's clock, and not at all
// once that slot has left the window. Then the withdrawals the process gave
// up on, whose retries are taken back. KEYS: window, batch number,
// withdrawals. ARGV: slot ms, slots, percent, reserve, ttl ms, batch, the
// number of pairs, age ms and count pairs, withdrawal numbers.
// Returns { available, capacity }.
const RATIO_FLUSH = `${WINDOW}${FIRST_TIME}${WITHDRAWALS}
local slot_ms, slots = tonumber(ARGV[1]), tonumber(ARGV[2])
local slot, requests, retries, now = window(KEYS[1], slot_ms, slots)
local batch = tonumber(ARGV[6])
local last_pair = 7 + 2 * tonumber(ARGV[7])
if batch > 0 and first_time(KEYS[2], batch, ARGV[5]) then
  for i = 8, last_pair - 1, 2 do
    local at = math.min(slot, math.floor((now - tonumber(ARGV[i])) / slot_ms))
    local count = tonumber(ARGV[i + 1])
    if at > slot - slots and count > 0 then
      redis.call('HINCRBY', KEYS[1], 'q:' .. string.format('%d', at), count)
      requests = requests + count
    end
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
for i = last_pair + 1, #ARGV do
  local field = take_back(KEYS[3], ARGV[i], ARGV[5])
  if field and tonumber(redis.call('HGET', KEYS[1], field) or '0') > 0 then
    redis.call('HINCRBY', KEYS[1], field, -1)
    retries = retries - 1
  end
end
local capacity = math.floor(requests * tonumber(ARGV[3]) / 100 + tonumber(ARGV[4]))
return { math.max(0, capacity - retries), capacity }
`

// Cool-downs: a sorted set, member = key, score = until (server ms). ARGV:
// key, delay ms, channel. Keeps the later of two untils, publishes
// "<remaining ms> <key>" so that subscribers need no common clock, returns remaining.
const COOLDOWN_RECORD = `${NOW}
local now = now_ms()
redis.call('ZADD', KEYS[1], 'GT', now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(tonumber(last[2]) - now))) end
local remaining = math.max(0, tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or now) - now)
redis.call('PUBLISH', ARGV[3], string.format('%d', remaining) .. ' ' .. ARGV[1])
return string.format('%d', remaining)
`

// Every cool-down still running, as { key, remaining ms, ... }.
const COOLDOWN_ALL = `${NOW}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #entries, 2 do
  out[#out + 1] = entries[i]
  out[#out + 1] = string.format('%d', tonumber(entries[i + 1]) - now)
end
return out
`

/** The numbers every ratio script starts its ARGV with. */
export type RatioArgs = readonly [slotMs: number, slots: number, percent: number, reserve: number, ttl: number]

/** A client with the library's scripts defined on it. */
export interface Scripted extends Redis {
  erTokenWithdraw(key: string, withdrawalsKey: string, capacity: number, cost: number, ttl: number, withdrawal: number): Promise<unknown>
  erTokenRefund(
    key: string,
    batchKey: string,
    withdrawalsKey: string,
    capacity: number,
    refund: number,
    ttl: number,
    batch: number,
    ...takenBack: ReadonlyArray<number>
  ): Promise<unknown>
  erRatioWithdraw(key: string, withdrawalsKey: string, ...args: [...RatioArgs, withdrawal: number]): Promise<unknown>
  erRatioFlush(
    key: string,
    batchKey: string,
    withdrawalsKey: string,
    ...args: [...RatioArgs, batch: number, pairs: number, ...ageAndCountThenTakenBack: ReadonlyArray<number>]
  ): Promise<unknown>
  erCooldownRecord(key: string, member: string, delayMs: number, channel: string): Promise<unknown>
  erCooldownAll(key: string): Promise<unknown>
}

/** Each script and the number of keys it takes. */
const SCRIPTS = {
  erTokenWithdraw: [TOKEN_WITHDRAW, 2],
  erTokenRefund: [TOKEN_REFUND, 3],
  erRatioWithdraw: [RATIO_WITHDRAW, 2],
  erRatioFlush: [RATIO_FLUSH, 3],
  erCooldownRecord: [COOLDOWN_RECORD, 1],
  erCooldownAll: [COOLDOWN_ALL, 1]
} as const

const defined = new WeakSet<Redis>()

/**
 * Defines the scripts on a client once. ioredis sends a script with EVAL the
 * first time on each connection and with EVALSHA after that: one round trip
 * either way.
 */
export const scripted = (client: Redis): Scripted => {
  if (!defined.has(client)) {
    defined.add(client)
    for (const [name, [lua, numberOfKeys]] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys, lua })
  }
  return client as Scripted
}
