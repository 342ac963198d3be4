/**
 * Budgets shared through a real redis-server (started by this file on
 * 127.0.0.1): the token bucket's semantics, a ratio window shared by two
 * connections, Redis commands per call from INFO commandstats, and what a
 * retry does when Redis is killed, answers garbage, or comes back.
 */
import { Cause, Config, ConfigProvider, Duration, Effect, Exit, Layer, Metric, Option, type Scope } from "effect"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { inspect } from "node:util"
import type { Redis, RedisOptions } from "ioredis"
import { beforeAll, expect, it } from "vitest"
import { Retry, RetryBudget, RetryPolicy } from "../src/index.js"
import { RedisBudget, RedisStore } from "../src/redis/index.js"
import { Busy, captureLogs, logText } from "./helpers.js"
import { describeRedis, freePort, type RedisServer, useRedis } from "./support/redis.js"
import { type RedisProxy, startProxy } from "./support/redisProxy.js"
import { commandsBetween, commandStats, scriptCalls } from "./support/redisStats.js"

let server: RedisServer
let watch: Redis
let prefixes = 0
/** A prefix of its own for each test, so that tests never share keys. */
const freshPrefix = () => `t${process.pid}-${++prefixes}:`

/** A store on the test's Redis (or on `url`, a proxy in front of it), with ioredis's settings or `redis`. */
const storeLayer = (prefix: string, timeout: Duration.DurationInput = "2 seconds", url = server.url, redis?: RedisOptions) =>
  RedisStore.layer({ url, prefix, timeout, connectTimeout: "5 seconds", ...(redis === undefined ? {} : { redis }) })

type StoreProgram<A, E> = Effect.Effect<A, E, RedisStore.RedisStore | Scope.Scope>

const runOn = <A, E>(store: Layer.Layer<RedisStore.RedisStore>, program: StoreProgram<A, E>) =>
  Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(store)))

/** Runs a scoped program against the test's Redis. */
const run = <A, E>(prefix: string, program: StoreProgram<A, E>, timeout?: Duration.DurationInput) =>
  runOn(storeLayer(prefix, timeout), program)

/**
 * Builds a budget on a connection of its own (as another process would),
 * both living in the caller's scope.
 */
const connected = <A>(prefix: string, make: (name: string) => Effect.Effect<A, never, RedisStore.RedisStore | Scope.Scope>) =>
(name: string) => Effect.flatMap(Layer.build(storeLayer(prefix)), (context) => Effect.provide(make(name), context))

/** Runs a scoped program against Redis at `url` (the test's, or a proxy in front of it), reconnecting every 50 ms. */
const runAt = <A, E>(url: string, prefix: string, program: StoreProgram<A, E>, timeout?: Duration.DurationInput) =>
  runOn(storeLayer(prefix, timeout, url, { retryStrategy: () => 50 }), program)

/** Runs `body` with a proxy of its own in front of the test's Redis (test/support/redisProxy.ts), closed afterwards. */
const throughProxy = async <A>(body: (proxy: RedisProxy) => Promise<A>): Promise<A> => {
  const proxy = await startProxy(() => server.port)
  try {
    return await body(proxy)
  } finally {
    await proxy.close()
  }
}

/** Waits until the store's connection is up again. */
const ready = Effect.flatMap(RedisStore.RedisStore, (store) =>
  Effect.promise(() => until(async () => store.client.status === "ready", 100)))

/** Polls `check` until it holds, at most `tries` times 50 ms apart. */
const until = async (check: () => Promise<boolean>, tries = 100): Promise<boolean> => {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

/** Polls `read` until `done` holds, at most `tries` times 50 ms apart. */
const eventually = <A>(read: Effect.Effect<A>, done: (a: A) => boolean, tries = 60): Effect.Effect<A> =>
  Effect.flatMap(read, (a) =>
    done(a) || tries <= 0 ? Effect.succeed(a) : Effect.zipRight(Effect.sleep("50 millis"), eventually(read, done, tries - 1)))

const noDelay = RetryPolicy.make({ baseDelay: 0, jitter: "none", maxAttempts: 3, name: "redis-budget-tests" })

describeRedis("RedisBudget against a real redis-server", () => {
  const redis = useRedis()
  beforeAll(() => {
    server = redis.server()
    watch = redis.watch()
  })

  it("a shared token bucket has the semantics of RetryBudget.tokenBucket, with refunds sent by the flush", async () => {
    const prefix = freshPrefix()
    await run(prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({ name: "api", capacity: 20, retryCost: 5, timeoutCost: 10, flushEvery: "20 millis" })
      expect(yield* budget.withdraw("error")).toEqual(Option.some(5))
      expect(yield* budget.withdraw("timeout")).toEqual(Option.some(10))
      expect(yield* budget.withdraw("error")).toEqual(Option.some(5))
      expect(yield* budget.withdraw("error")).toEqual(Option.none())
      expect((yield* budget.snapshot).available).toBe(0)
      // A success after retries refunds what they cost; a first-attempt success refunds 1.
      budget.unsafeSucceeded!(15)
      budget.unsafeSucceeded!(0)
      const after = yield* eventually(budget.snapshot, (s) => s.available === 16)
      expect(after).toEqual({ available: 16, capacity: 20 })
      // Never above capacity.
      yield* budget.succeeded(100)
      expect(yield* eventually(budget.snapshot, (s) => s.available === 20)).toEqual({ available: 20, capacity: 20 })
    }))
    // Every key has a TTL: the bucket, the number of the last batch of refunds this process sent,
    // and what its last withdrawals took.
    const keys = (await watch.keys(`${prefix}*`)).sort()
    expect(keys).toHaveLength(3)
    expect(keys[0]).toBe(`${prefix}budget:api`)
    expect(keys[1]).toMatch(new RegExp(`^${prefix}budget:api:batch:[0-9a-f-]{36}$`))
    expect(keys[2]).toMatch(new RegExp(`^${prefix}budget:api:withdrawals:[0-9a-f-]{36}$`))
    for (const key of keys) expect(await watch.pttl(key)).toBeGreaterThan(0)
  })

  it("two connections with the same name share one bucket; another name has its own", async () => {
    const prefix = freshPrefix()
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const make = connected(prefix, (name: string) => RedisBudget.makeTokenBucket({ name, capacity: 10, retryCost: 5 }))
      const a = yield* make("shared")
      const b = yield* make("shared")
      const other = yield* make("other")
      expect(yield* a.withdraw("error")).toEqual(Option.some(5))
      expect(yield* b.withdraw("error")).toEqual(Option.some(5))
      expect(yield* a.withdraw("error")).toEqual(Option.none())
      expect(yield* b.withdraw("error")).toEqual(Option.none())
      expect(yield* other.withdraw("error")).toEqual(Option.some(5))
    })))
  })

  it("a shared ratio budget counts the requests of every connection in one window", async () => {
    const prefix = freshPrefix()
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const make = connected(prefix, () => RedisBudget.makeRatio({ name: "search", percent: 50, minPerSecond: 0, flushEvery: "20 millis" }))
      const a = yield* make("")
      const b = yield* make("")
      // Ten successful calls through a: no retry allowed yet on b until a's counts are flushed.
      for (let i = 0; i < 10; i++) yield* Retry.retry(Effect.succeed(i), noDelay, { budget: a })
      yield* eventually(b.snapshot, (s) => s.capacity === 5)
      const grants = yield* Effect.forEach(Array.from({ length: 8 }), () => b.withdraw("error"))
      expect(grants.filter(Option.isSome)).toHaveLength(5)
      expect(yield* a.withdraw("error")).toEqual(Option.none())
    })))
    expect(await watch.pttl(`${prefix}ratio:search`)).toBeGreaterThan(0)
  })

  it("a first-attempt success costs no Redis command; a retry costs exactly one", async () => {
    const prefix = freshPrefix()
    await run(prefix, Effect.gen(function*() {
      // A flush interval longer than the test: only the calls themselves can reach Redis.
      const budget = yield* RedisBudget.makeTokenBucket({ name: "calls", flushEvery: "1 hour" })
      const ratio = yield* RedisBudget.makeRatio({ name: "calls", flushEvery: "1 hour" })
      const before = yield* Effect.promise(() => commandStats(watch))
      for (let i = 0; i < 1000; i++) {
        yield* Retry.retry(Effect.succeed(i), noDelay, { budget })
        yield* Retry.retry(Effect.succeed(i), noDelay, { budget: ratio })
      }
      const afterSuccesses = yield* Effect.promise(() => commandStats(watch))
      expect(commandsBetween(before, afterSuccesses)).toEqual(new Map())

      let attempts = 0
      const failOnce = Effect.suspend(() => ++attempts === 1 ? Effect.fail(new Busy({})) : Effect.succeed("ok"))
      expect(yield* Retry.retry(failOnce, noDelay, { budget })).toBe("ok")
      const afterRetry = yield* Effect.promise(() => commandStats(watch))
      const retry = commandsBetween(afterSuccesses, afterRetry)
      // One script call (EVAL the first time on a connection); the rest ran inside it.
      expect(scriptCalls(retry)).toBe(1)
      expect([...retry.keys()].filter((name) => !["eval", "evalsha", "get", "set", "pexpire", "hget", "hset", "hdel", "hlen"].includes(name)))
        .toEqual([])
    }))
  })

  it("when Redis is killed, each mode decides every retry at once, counts the errors, and Redis is used again after a restart", async () => {
    const prefix = freshPrefix()
    const errorsOf = (operation: string) =>
      Effect.map(Metric.value(Metric.tagged(RedisStore.errors, "operation", operation)), (s) => s.count)
    await run(prefix, Effect.gen(function*() {
      const local = yield* RedisBudget.makeTokenBucket({ name: "local", capacity: 10, retryCost: 5, onStoreError: "local" })
      const allow = yield* RedisBudget.makeTokenBucket({ name: "allow", capacity: 10, retryCost: 5, onStoreError: "allow" })
      const deny = yield* RedisBudget.makeRatio({ name: "deny", minPerSecond: 100, onStoreError: "deny" })
      expect(yield* local.withdraw("error")).toEqual(Option.some(5))

      yield* Effect.promise(() => server.kill("SIGKILL"))
      const errorsBefore = yield* errorsOf("withdraw")
      // Bounded: a hang would fail here rather than stall the suite.
      const decide = <A>(effect: Effect.Effect<A>) => Effect.timeoutFail(effect, { duration: "5 seconds", onTimeout: () => "hung" })
      // local: an in-process bucket with the same options (full: the shared withdrawal does not count here).
      // Its grants take nothing from the shared bucket (Some(0)), which gives nothing back for them.
      expect(yield* decide(local.withdraw("error"))).toEqual(Option.some(0))
      expect(yield* decide(local.withdraw("error"))).toEqual(Option.some(0))
      expect(yield* decide(local.withdraw("error"))).toEqual(Option.none())
      expect(yield* decide(allow.withdraw("error"))).toEqual(Option.some(0))
      expect(yield* decide(deny.withdraw("error"))).toEqual(Option.none())
      expect((yield* errorsOf("withdraw")) - errorsBefore).toBe(5)
      // Successes while Redis is down still never wait.
      local.unsafeSucceeded!(0)
      deny.unsafeRequest!(0)

      yield* Effect.promise(() => server.start())
      // The client reconnects by itself; the restarted (empty) Redis holds a full bucket again.
      const back = yield* eventually(allow.withdraw("error"), (granted) => Option.isSome(granted) && granted.value === 5, 100)
      expect(back).toEqual(Option.some(5))
      expect(yield* deny.withdraw("error")).toEqual(Option.some(1))
    }))
  })

  it("a reply that is not a budget (a corrupted key) falls back to the mode instead of failing the call", async () => {
    const prefix = freshPrefix()
    await watch.set(`${prefix}budget:garbage`, "not a number")
    await watch.hset(`${prefix}budget:wrongtype`, "a", "1")
    await run(prefix, Effect.gen(function*() {
      const garbage = yield* RedisBudget.makeTokenBucket({ name: "garbage", onStoreError: "deny" })
      const wrongType = yield* RedisBudget.makeTokenBucket({ name: "wrongtype", onStoreError: "allow" })
      expect(yield* garbage.withdraw("error")).toEqual(Option.none())
      expect(yield* wrongType.withdraw("error")).toEqual(Option.some(0))
      // Through Retry.retry: the call ends with its own error, never a defect.
      const exit = yield* Effect.exit(Retry.retry(Effect.fail(new Busy({})), noDelay, { budget: garbage }))
      expect(Exit.isFailure(exit) && Cause.isFailType(exit.cause)).toBe(true)
    }))
  })

  it("a budget layer is a RetryBudget: Retry.retry uses it from the context", async () => {
    const prefix = freshPrefix()
    const Budget = RedisBudget.tokenBucket({ name: "layer", capacity: 5, retryCost: 5 }).pipe(Layer.provide(storeLayer(prefix)))
    const attempts = await Effect.runPromise(Effect.gen(function*() {
      let count = 0
      const call = Effect.suspend(() => {
        count++
        return Effect.fail(new Busy({}))
      })
      yield* Effect.exit(Retry.retry(call, noDelay))
      yield* Effect.exit(Retry.retry(call, noDelay))
      return count
    }).pipe(Effect.provide(Budget)))
    // One retry in the whole bucket: 2 attempts for the first call, 1 for the second.
    expect(attempts).toBe(3)
    const snapshot = await Effect.runPromise(
      Effect.flatMap(RetryBudget.RetryBudget, (budget) => budget.snapshot).pipe(Effect.provide(Budget))
    )
    expect(snapshot.available).toBe(0)
  })

  it("a batch of refunds whose answer came too late (Redis paused) is applied once, not once per flush", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:slow`
    await watch.set(key, "40", "PX", 600_000)
    await run(prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({ name: "slow", capacity: 100, flushEvery: "30 millis" })
      // A first-attempt success refunds 1: the connection and its scripts are warm.
      budget.unsafeSucceeded!(0)
      yield* Effect.promise(() => until(async () => (await watch.get(key)) === "41"))
      // Redis stalls for 600 ms, longer than the 100 ms time limit: the flushes meanwhile time out, then run.
      yield* Effect.promise(() => watch.call("CLIENT", "PAUSE", "600", "ALL"))
      // A success after a retry that cost 5: 5 tokens go back, once.
      budget.unsafeSucceeded!(5)
      yield* Effect.sleep("1500 millis")
    }), "100 millis")
    expect(await watch.get(key)).toBe("46")
  })

  it("request counts whose answer came too late (Redis paused) are counted once", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}ratio:slow`
    const counted = async () =>
      Object.entries(await watch.hgetall(key)).filter(([name]) => name.startsWith("q:")).reduce((sum, [, n]) => sum + Number(n), 0)
    await run(prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeRatio({ name: "slow", window: "1 minute", flushEvery: "30 millis" })
      yield* budget.request
      yield* Effect.promise(() => until(async () => (await counted()) === 1))
      yield* Effect.promise(() => watch.call("CLIENT", "PAUSE", "600", "ALL"))
      for (let i = 0; i < 100; i++) yield* budget.request
      yield* Effect.sleep("1500 millis")
    }), "100 millis")
    expect(await counted()).toBe(101)
  })

  it("requests counted while Redis was down go to the slots they were made in: those past the window count for nothing", async () => {
    const prefix = freshPrefix()
    const options = { percent: 100, minPerSecond: 0, window: "2 seconds" } as const
    const result = await runAt(server.url, prefix, Effect.gen(function*() {
      const store = yield* RedisStore.RedisStore
      const shared = yield* RedisBudget.makeRatio({ name: "outage", flushEvery: "50 millis", ...options })
      const memory = yield* RetryBudget.makeRatio(options)
      yield* Effect.promise(() => server.kill("SIGKILL"))
      for (let i = 0; i < 500; i++) {
        yield* shared.request
        yield* memory.request
      }
      // Down for two windows, then back.
      yield* Effect.sleep("4 seconds")
      yield* Effect.promise(() => server.start())
      yield* Effect.promise(() => until(async () => store.client.status === "ready"))
      const recent = 7
      for (let i = 0; i < recent; i++) {
        yield* shared.request
        yield* memory.request
      }
      const inMemory = yield* memory.snapshot
      return { shared: yield* eventually(shared.snapshot, (s) => s.capacity === recent, 20), memory: inMemory }
    }), "100 millis")
    // In memory, the 500 requests left the window long ago: only the recent ones count.
    expect(result.memory.capacity).toBe(7)
    expect(result.shared.capacity).toBe(result.memory.capacity)
  })

  it("a withdrawal whose answer came too late (Redis paused) gives its tokens back: no retry was granted on them", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:stall`
    const available = await run(prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({
        name: "stall",
        capacity: 20,
        retryCost: 5,
        onStoreError: "deny",
        flushEvery: "50 millis"
      })
      expect(yield* budget.withdraw("error")).toEqual(Option.some(5))
      budget.unsafeSucceeded!(5)
      yield* Effect.promise(() => until(async () => (await watch.get(key)) === "20"))
      // Redis stalls for 500 ms; four retries ask meanwhile, time out after 100 ms and are refused (deny).
      yield* Effect.promise(() => watch.call("CLIENT", "PAUSE", "500", "ALL"))
      const grants = yield* Effect.all(Array.from({ length: 4 }, () => budget.withdraw("error")), { concurrency: "unbounded" })
      expect(grants.every(Option.isNone)).toBe(true)
      // The withdrawals ran when Redis woke up; the next flushes take them back.
      yield* Effect.sleep("1500 millis")
      return yield* budget.snapshot
    }), "100 millis")
    expect(available).toEqual({ available: 20, capacity: 20 })
    expect(await watch.get(key)).toBe("20")
  })

  it("a ratio withdrawal whose answer came too late gives its retry back", async () => {
    const prefix = freshPrefix()
    const available = await run(prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeRatio({ name: "stall", percent: 0, minPerSecond: 1, window: "10 seconds", onStoreError: "deny", flushEvery: "50 millis" })
      expect(yield* budget.snapshot).toEqual({ available: 10, capacity: 10 })
      yield* Effect.promise(() => watch.call("CLIENT", "PAUSE", "500", "ALL"))
      const grants = yield* Effect.all(Array.from({ length: 3 }, () => budget.withdraw("error")), { concurrency: "unbounded" })
      expect(grants.every(Option.isNone)).toBe(true)
      yield* Effect.sleep("1500 millis")
      return yield* budget.snapshot
    }), "100 millis")
    expect(available).toEqual({ available: 10, capacity: 10 })
    const retries = Object.entries(await watch.hgetall(`${prefix}ratio:stall`)).filter(([name]) => name.startsWith("r:"))
    expect(retries.reduce((sum, [, n]) => sum + Number(n), 0)).toBe(0)
  })

  it("a retry drawn on the in-process bucket while Redis was unreachable refunds that bucket, not the shared one", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:partition`
    // The rest of the fleet has emptied the shared bucket.
    await watch.set(key, "0", "PX", 600_000)
    await throughProxy(async (proxy) => {
      await runAt(proxy.url, prefix, Effect.gen(function*() {
        const budget = yield* RedisBudget.makeTokenBucket({ name: "partition", capacity: 10, retryCost: 5, flushEvery: "50 millis" })
        // This process loses Redis; a call fails once, retries on the local bucket, and succeeds.
        proxy.cut()
        let attempts = 0
        const failOnce = Effect.suspend(() => ++attempts === 1 ? Effect.fail(new Busy({})) : Effect.succeed("ok"))
        expect(yield* Retry.retry(failOnce, noDelay, { budget })).toBe("ok")
        expect(attempts).toBe(2)
        expect((yield* Metric.value(Metric.tagged(RedisStore.errors, "operation", "withdraw"))).count).toBeGreaterThan(0)
        // Redis is back for this process; a first-attempt success then refunds 1 to the shared bucket,
        // which shows when the flushes reach Redis again.
        proxy.restore()
        budget.unsafeSucceeded!(0)
        yield* Effect.promise(() => until(async () => (await watch.get(key)) !== "0"))
      }), "200 millis")
    })
    // The 1 token of the later success, and not the 5 the shared bucket never gave.
    expect(await watch.get(key)).toBe("1")
  })

  it("a local grant whose call gave up does not swallow the refund of a later shared grant", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:drawn`
    await throughProxy(async (proxy) => {
      await runAt(proxy.url, prefix, Effect.gen(function*() {
        const budget = yield* RedisBudget.makeTokenBucket({ name: "drawn", capacity: 10, retryCost: 5, flushEvery: "50 millis" })
        // Redis unreachable: a retry draws on the in-process bucket, and its call then gives up (no success).
        proxy.cut()
        expect(yield* budget.withdraw("error")).toEqual(Option.some(0))
        proxy.restore()
        yield* ready
        // Redis is back: a retry draws 5 from the shared bucket, and its call succeeds.
        expect(yield* budget.withdraw("error")).toEqual(Option.some(5))
        expect(yield* Effect.promise(() => watch.get(key))).toBe("5")
        budget.unsafeSucceeded!(5)
        yield* Effect.promise(() => until(async () => (await watch.get(key)) === "10", 30))
      }), "200 millis")
    })
    // The shared bucket gave 5 and the call succeeded: the 5 go back to it.
    expect(await watch.get(key)).toBe("10")
  })

  it("the withdrawals hash written by a flush that takes back a withdrawal which never reached Redis has a TTL", async () => {
    const prefix = freshPrefix()
    await throughProxy(async (proxy) => {
      await runAt(proxy.url, prefix, Effect.gen(function*() {
        const bucket = yield* RedisBudget.makeTokenBucket({ name: "ttl", onStoreError: "deny", flushEvery: "50 millis" })
        const ratio = yield* RedisBudget.makeRatio({ name: "ttl", onStoreError: "deny", flushEvery: "50 millis" })
        proxy.cut()
        expect(yield* bucket.withdraw("error")).toEqual(Option.none())
        expect(yield* ratio.withdraw("error")).toEqual(Option.none())
        proxy.restore()
        yield* ready
        yield* Effect.promise(() => until(async () => (await watch.keys(`${prefix}*:withdrawals:*`)).length === 2))
      }), "200 millis")
    })
    const keys = (await watch.keys(`${prefix}*`)).sort()
    expect(keys.filter((k) => k.includes(":withdrawals:"))).toHaveLength(2)
    const ttls = await Promise.all(keys.map(async (k) => [k.replace(prefix, ""), await watch.pttl(k)] as const))
    // Every key the library writes disappears on its own.
    expect(ttls.filter(([, ttl]) => ttl < 0)).toEqual([])
  })

  it("refunds gathered while a batch is in flight are sent by the flush at scope close", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:close`
    await watch.set(key, "40", "PX", 600_000)
    await runAt(server.url, prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({ name: "close", capacity: 100, flushEvery: "30 millis" })
      budget.unsafeSucceeded!(0)
      yield* Effect.promise(() => until(async () => (await watch.get(key)) === "41"))
      // Redis stalls 400 ms (less than the 2 s limit): the next flush carries the 5 and waits.
      yield* Effect.promise(() => watch.call("CLIENT", "PAUSE", "400", "ALL"))
      budget.unsafeSucceeded!(5)
      yield* Effect.sleep("100 millis")
      // A later success, then the scope closes.
      budget.unsafeSucceeded!(10)
    }))
    expect(await watch.get(key)).toBe("56")
  })

  it("Redis keeps a bounded record of what a process's withdrawals took", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:grow`
    const length = await runAt(server.url, prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({ name: "grow", capacity: 1e6, retryCost: 1, onStoreError: "deny", flushEvery: "1 hour" })
      // More grants than Redis keeps a record of (1024), twice over, and some refusals on an empty bucket.
      for (let i = 0; i < 2200; i++) expect(yield* budget.withdraw("error")).toEqual(Option.some(1))
      yield* Effect.promise(() => watch.set(key, "0", "PX", 600_000))
      for (let i = 0; i < 100; i++) expect(yield* budget.withdraw("error")).toEqual(Option.none())
      const [hash] = yield* Effect.promise(() => watch.keys(`${key}:withdrawals:*`))
      return yield* Effect.promise(() => watch.hlen(hash!))
    }))
    expect(length).toBeGreaterThanOrEqual(1024)
    expect(length).toBeLessThanOrEqual(2 * 1024 + 1)
  })

  it("a withdrawal interrupted while Redis stalls (a timeout around the call) gives its tokens back", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:interrupt`
    await runAt(server.url, prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({ name: "interrupt", capacity: 20, retryCost: 5, flushEvery: "50 millis" })
      expect(yield* budget.withdraw("error")).toEqual(Option.some(5))
      budget.unsafeSucceeded!(5)
      yield* Effect.promise(() => until(async () => (await watch.get(key)) === "20"))
      yield* Effect.promise(() => watch.call("CLIENT", "PAUSE", "400", "ALL"))
      // The call's own deadline ends it while its retry's withdrawal waits on Redis: no retry is made.
      const exit = yield* Effect.exit(
        Retry.retry(Effect.fail(new Busy({})), noDelay, { budget }).pipe(Effect.timeout("100 millis"))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      yield* Effect.sleep("1 second")
    }))
    expect(await watch.get(key)).toBe("20")
  })

  it("a refund batch that never reached Redis is not dropped by the ttl rule", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:dropped`
    await watch.set(key, "0", "PX", 600_000)
    await throughProxy(async (proxy) => {
      await runAt(proxy.url, prefix, Effect.gen(function*() {
        const budget = yield* RedisBudget.makeTokenBucket({ name: "dropped", capacity: 10, ttl: "1 second", flushEvery: "50 millis" })
        proxy.cut()
        budget.unsafeSucceeded!(0)
        // This process cannot reach Redis for longer than the ttl; the fleet keeps the bucket alive.
        yield* Effect.sleep("1300 millis")
        yield* Effect.promise(() => watch.pexpire(key, 600_000))
        proxy.restore()
        yield* ready
        yield* Effect.promise(() => until(async () => (await watch.get(key)) !== "0", 20))
      }), "200 millis")
    })
    // Every connection attempt was refused: the refund was never applied, and it is still owed.
    expect(await watch.get(key)).toBe("1")
  })

  it("a hundred withdrawals stalled at once: every one of them is given back", async () => {
    const prefix = freshPrefix()
    const key = `${prefix}budget:many`
    await runAt(server.url, prefix, Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({ name: "many", capacity: 1000, retryCost: 1, onStoreError: "deny", flushEvery: "50 millis" })
      expect(yield* budget.withdraw("error")).toEqual(Option.some(1))
      budget.unsafeSucceeded!(1)
      yield* Effect.promise(() => until(async () => (await watch.get(key)) === "1000"))
      // Redis stalls 500 ms; 100 retries of a busy process ask meanwhile, time out and are refused.
      yield* Effect.promise(() => watch.call("CLIENT", "PAUSE", "500", "ALL"))
      const grants = yield* Effect.all(Array.from({ length: 100 }, () => budget.withdraw("error")), { concurrency: "unbounded" })
      expect(grants.every(Option.isNone)).toBe(true)
      yield* Effect.sleep("1500 millis")
    }), "100 millis")
    expect(await watch.get(key)).toBe("1000")
  })

  it("layerConfig: a redis:// URL that ioredis cannot parse (a raw % in the password) is a typed failure, not a defect", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(RedisStore.layerConfig({ url: Config.redacted("REDIS_URL") }))).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["REDIS_URL", `redis://app:50%off@127.0.0.1:${server.port}`]])))
      )
    )
    expect(Exit.isFailure(exit) && !Cause.isDie(exit.cause)).toBe(true)
  })

  it("a wrong password is said in the log, without the password, not taken for a Redis that does not answer", async () => {
    await watch.call("ACL", "SETUSER", "app", "on", ">right-password", "~*", "+@all")
    const { layer: logged, logs } = captureLogs()
    const prefix = freshPrefix()
    const url = `redis://app:wrong-password@127.0.0.1:${server.port}`
    const granted = await Effect.runPromise(Effect.gen(function*() {
      const budget = yield* RedisBudget.makeTokenBucket({ name: "auth", onStoreError: "deny" })
      return yield* budget.withdraw("error")
    }).pipe(Effect.scoped, Effect.provide(RedisStore.layer({ url, prefix, connectTimeout: "2 seconds" })), Effect.provide(logged)))
    expect(granted).toEqual(Option.none())
    const warning = logs.find((log) => log.level === "WARN")
    expect(warning === undefined ? "" : logText(warning)).toMatch(/WRONGPASS/)
    for (const log of logs) expect(logText(log)).not.toContain("wrong-password")
  })

  it("a process whose Redis is down exits once its layers close, not ioredis's 2 s disconnect timeout later", async () => {
    const port = await freePort()
    // The child builds the fleet layers against a closed port, closes them, and says how long it lived on after.
    const program = `
      import { Effect, Layer } from "effect"
      import { RedisBudget, RedisCooldown, RedisStore } from "./src/redis/index.ts"
      const store = RedisStore.layer({ url: "redis://127.0.0.1:${port}" })
      const fleet = Layer.merge(RedisBudget.tokenBucket({ name: "x" }), RedisCooldown.layer).pipe(Layer.provide(store))
      await Effect.runPromise(Effect.scoped(Layer.build(fleet)))
      const closed = performance.now()
      process.on("exit", () => console.log("lived on " + Math.round(performance.now() - closed)))
    `
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
      timeout: 20_000
    })
    const livedOn = Number(/lived on (\d+)/.exec(child.stdout)?.[1])
    expect(child.stderr).toBe("")
    // The store's time limit is 200 ms; ioredis would hold a socket timer for 2000.
    expect(livedOn).toBeLessThan(1000)
  })

  it("rejects invalid options with a typed error naming the option, never printing the URL", () => {
    expect(() => RedisBudget.tokenBucket({ name: "" })).toThrow(/name/)
    expect(() => RedisBudget.tokenBucket({ name: "x", onStoreError: "maybe" as never })).toThrow(/onStoreError/)
    expect(() => RedisBudget.ratio({ name: "x", window: 0 })).toThrow(/window/)
    expect(() => RedisBudget.tokenBucket({ name: "x", capcity: 1 } as never)).toThrow(/capcity/)
    expect(() => RedisStore.layer({ url: "http://user:secret@example.com" })).toThrow(/redis\.url/)
    expect(() => RedisStore.layer({ url: "http://user:secret@example.com" })).not.toThrow(/secret/)
    // A redis:// URL that does not parse (a port out of range) is the same typed error, not ioredis's TypeError with the URL.
    const typo = () => RedisStore.layer({ url: "redis://app:s3cret@cache.internal:637900" })
    expect(typo).toThrow(/redis\.url/)
    expect(typo).not.toThrow(/s3cret/)
  })

  it("layerConfig: a bad REDIS_URL fails the layer with a typed error; a Config.redacted URL works", async () => {
    const build = (layer: Layer.Layer<RedisStore.RedisStore, unknown>, env: Record<string, string>) =>
      Effect.runPromiseExit(Effect.scoped(Layer.build(layer)).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      ))
    for (const url of ["127.0.0.1:6379", "redis://app:s3cret@cache.internal:637900"]) {
      const exit = await build(RedisStore.layerConfig({ url: Config.string("REDIS_URL") }), { REDIS_URL: url })
      expect(Exit.isFailure(exit) && !Cause.isDie(exit.cause)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(Cause.failureOption(exit.cause).pipe(Option.getOrThrow)).toMatchObject({ _tag: "InvalidRetryPolicy", field: "redis.url" })
        expect(inspect(exit, { depth: 10 })).not.toMatch(/s3cret/)
      }
    }
    const prefix = freshPrefix()
    const exit = await build(
      RedisStore.layerConfig({ url: Config.redacted("REDIS_URL"), prefix: Config.succeed(prefix) }),
      { REDIS_URL: server.url }
    )
    expect(Exit.isSuccess(exit)).toBe(true)
  })

  it("layerConfig reads the time limits too, and a bad one is a typed failure naming it", async () => {
    const env = (values: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(values)))
    const layer = RedisStore.layerConfig({
      url: Config.redacted("REDIS_URL"),
      timeout: Config.string("REDIS_TIMEOUT"),
      connectTimeout: Config.duration("REDIS_CONNECT_TIMEOUT")
    })
    const timeout = await Effect.runPromise(
      Effect.map(RedisStore.RedisStore, (store) => Duration.toMillis(store.timeout)).pipe(
        Effect.provide(layer),
        Effect.withConfigProvider(env({ REDIS_URL: server.url, REDIS_TIMEOUT: "750ms", REDIS_CONNECT_TIMEOUT: "2 seconds" }))
      )
    )
    expect(timeout).toBe(750)
    const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(layer)).pipe(
      Effect.withConfigProvider(env({ REDIS_URL: server.url, REDIS_TIMEOUT: "-1", REDIS_CONNECT_TIMEOUT: "2 seconds" }))
    ))
    expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe(Option.getOrThrow)).toMatchObject({
      _tag: "InvalidRetryPolicy",
      field: "redis.timeout"
    })
  })
})
