/**
 * The cool-down store on a real redis-server: a cool-down recorded through one
 * connection reaches another (another process, in production) by pub/sub,
 * reads never touch Redis, a subscriber that starts late or reconnects after
 * a restart catches up, and a dead Redis leaves each process its own view.
 */
import { Effect, Layer, type Scope } from "effect"
import type { Redis } from "ioredis"
import { beforeAll, expect, it } from "vitest"
import type { RetryCooldown } from "../src/index.js"
import { RedisCooldown, RedisStore } from "../src/redis/index.js"
import { describeRedis, type RedisServer, useRedis } from "./support/redis.js"
import { commandsBetween, commandStats } from "./support/redisStats.js"

let server: RedisServer
let watch: Redis
let prefixes = 0
const freshPrefix = () => `c${process.pid}-${++prefixes}:`

/** A cool-down store on a connection of its own, as another process would have. */
const connect = (prefix: string): Effect.Effect<RetryCooldown.Service, never, Scope.Scope> =>
  Effect.flatMap(
    Layer.build(RedisStore.layer({ url: server.url, prefix, timeout: "2 seconds", connectTimeout: "5 seconds" })),
    (context) => Effect.provide(RedisCooldown.make, context)
  )

/** Polls until `done` holds, at most `tries` times 20 ms apart. */
const eventually = (check: () => boolean, tries = 250): Effect.Effect<boolean> =>
  Effect.suspend(() =>
    check() || tries <= 0 ? Effect.succeed(check()) : Effect.zipRight(Effect.sleep("20 millis"), eventually(check, tries - 1))
  )

const now = () => Effect.runSync(Effect.clockWith((clock) => clock.currentTimeMillis))

describeRedis("RedisCooldown against a real redis-server", () => {
  const redis = useRedis()
  beforeAll(() => {
    server = redis.server()
    watch = redis.watch()
  })

  it("a cool-down recorded in one process reaches another by pub/sub; reading it costs no Redis command", async () => {
    const prefix = freshPrefix()
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const a = yield* connect(prefix)
      const b = yield* connect(prefix)
      yield* a.record("https://api.example.com", "2 seconds")
      // a knows at once; b within a pub/sub message.
      expect(a.unsafeRemaining("https://api.example.com", now())).toBeGreaterThan(1900)
      expect(yield* eventually(() => b.unsafeRemaining("https://api.example.com", now()) > 1500)).toBe(true)
      expect(b.unsafeRemaining("https://other.example.com", now())).toBe(0)

      const before = yield* Effect.promise(() => commandStats(watch))
      for (let i = 0; i < 1000; i++) b.unsafeRemaining("https://api.example.com", now())
      yield* b.remaining("https://api.example.com")
      expect(commandsBetween(before, yield* Effect.promise(() => commandStats(watch)))).toEqual(new Map())
    })))
    // One sorted set, with a TTL that ends with the last cool-down.
    const ttl = await watch.pttl(`${prefix}cooldowns`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(2000)
  })

  it("a process that starts during a cool-down reads it from Redis", async () => {
    const prefix = freshPrefix()
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const a = yield* connect(prefix)
      yield* a.record("k", "3 seconds")
      yield* Effect.promise(() => eventuallyInRedis(prefix, "k"))
      const late = yield* connect(prefix)
      expect(yield* eventually(() => late.unsafeRemaining("k", now()) > 2000)).toBe(true)
    })))
  })

  it("while Redis is down each process keeps its own cool-downs; after a restart they travel again", async () => {
    const prefix = freshPrefix()
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const a = yield* connect(prefix)
      const b = yield* connect(prefix)
      yield* Effect.promise(() => server.kill("SIGKILL"))
      // Recording never waits on the dead Redis.
      const recorded = yield* Effect.timeoutFail(a.record("down", "5 seconds"), { duration: "3 seconds", onTimeout: () => "hung" })
      expect(recorded).toBeUndefined()
      expect(a.unsafeRemaining("down", now())).toBeGreaterThan(4000)
      expect(b.unsafeRemaining("down", now())).toBe(0)

      yield* Effect.promise(() => server.start())
      // Both reconnect (the subscriber subscribes again); a new cool-down reaches b.
      const travelled = yield* eventually(() => {
        Effect.runFork(a.record("after", "5 seconds"))
        return b.unsafeRemaining("after", now()) > 0
      }, 300)
      expect(travelled).toBe(true)
    })))
  })

  it("a restarted Redis (no persistence) gets back the cool-downs still running, from the processes that hold them", async () => {
    const prefix = freshPrefix()
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const a = yield* connect(prefix)
      yield* a.record("before", "8 seconds")
      yield* Effect.promise(() => eventuallyInRedis(prefix, "before"))
      yield* Effect.promise(() => server.kill("SIGKILL"))
      yield* Effect.promise(() => server.start())
      // The restarted Redis is empty; a reconnects and records what it still holds.
      yield* Effect.promise(() => eventuallyInRedis(prefix, "before", 300))
      // A process that starts now reads it, with about the time a has left.
      const late = yield* connect(prefix)
      const left = late.unsafeRemaining("before", now())
      expect(left).toBeGreaterThan(1000)
      expect(left).toBeLessThanOrEqual(a.unsafeRemaining("before", now()) + 100)
    })))
  })
})

/** Waits until the sorted set holds `member` (bounded). */
const eventuallyInRedis = async (prefix: string, member: string, tries = 100) => {
  for (let i = 0; i < tries; i++) {
    if ((await watch.zscore(`${prefix}cooldowns`, member)) !== null) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`${member} never reached Redis`)
}

