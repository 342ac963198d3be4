import { HttpClient, type HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Layer, Schedule, TestClock } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { performance } from "node:perf_hooks"
import { HttpRetry } from "../src/http/index.js"
import { Retry, RetryCooldown, RetryEvent, RetryLog, RetryPolicy } from "../src/index.js"
import { Busy, captureLogs, collectEvents, track } from "./helpers.js"

describe("RetryCooldown.layerMemory", () => {
  it.effect("a recorded cool-down runs out with the clock; the later of two wins; other keys are free", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.RetryCooldown
      yield* cooldown.record("https://a.example", "2 seconds")
      yield* cooldown.record("https://a.example", "1 second") // shorter: ignored
      expect(Duration.toMillis(yield* cooldown.remaining("https://a.example"))).toBe(2000)
      expect(Duration.toMillis(yield* cooldown.remaining("https://b.example"))).toBe(0)
      yield* TestClock.adjust("1500 millis")
      expect(cooldown.unsafeRemaining("https://a.example", 1500)).toBe(500)
      yield* cooldown.record("https://a.example", "3 seconds") // later: wins
      yield* TestClock.adjust("2 seconds")
      expect(Duration.toMillis(yield* cooldown.remaining("https://a.example"))).toBe(1000)
      yield* TestClock.adjust("1 second")
      expect(Duration.toMillis(yield* cooldown.remaining("https://a.example"))).toBe(0)
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a zero, negative or NaN delay records nothing", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.make
      yield* cooldown.record("k", 0)
      yield* cooldown.record("k", Duration.millis(-5))
      yield* cooldown.record("k", Number.NaN)
      expect(cooldown.unsafeRemaining("k", 0)).toBe(0)
    }))

  // The wall clock may be stepped back (NTP, a VM resumed): a cool-down must
  // not grow by the step, or every call to that key would wait an hour.
  it.effect("a clock stepped back makes a cool-down last at most what was recorded, then it ends", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.make
      yield* TestClock.setTime(7_200_000)
      yield* cooldown.record("k", "30 seconds")
      yield* TestClock.adjust("10 seconds")
      yield* TestClock.setTime(7_210_000 - 3_600_000)
      expect(Duration.toMillis(yield* cooldown.remaining("k"))).toBe(30_000)
      yield* TestClock.adjust("30 seconds")
      expect(Duration.toMillis(yield* cooldown.remaining("k"))).toBe(0)
    }))

  it.effect("many keys: ended cool-downs are dropped, running ones kept", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.make
      for (let i = 0; i < 3000; i++) yield* cooldown.record(`k${i}`, i < 2990 ? "1 second" : "1 hour")
      yield* TestClock.adjust("2 seconds")
      yield* cooldown.record("late", "1 second")
      expect(cooldown.unsafeRemaining("k0", 2000)).toBe(0)
      expect(cooldown.unsafeRemaining("k2999", 2000)).toBe(3_600_000 - 2000)
    }))
})

describe("Retry.retry with a RetryCooldown", () => {
  const policy = RetryPolicy.make({
    name: "cooldown-tests",
    baseDelay: "100 millis",
    jitter: "none",
    maxAttempts: 3,
    retryAfter: { max: "5 seconds", whenAboveMax: "clamp", spread: 0 }
  })
  const key = "https://api.example.com"

  it.effect("a hint one call receives makes another call's retries to the same key wait until it ends", () =>
    Effect.gen(function*() {
      // a: told to retry after 2 s, once. b: fails without a hint at 500 ms, then succeeds.
      const a = track((n) => n === 1 ? Effect.fail(new Busy({ retryAfter: "2 seconds" })) : Effect.succeed("a"))
      const b = track((n) => n === 1 ? Effect.fail(new Busy({})) : Effect.succeed("b"))
      const other = track((n) => n === 1 ? Effect.fail(new Busy({})) : Effect.succeed("other"))
      const bEvents = collectEvents()
      const fibers = yield* Effect.all([
        Effect.fork(Retry.retry(a.effect, policy, { cooldown: { key } })),
        Effect.fork(Effect.zipRight(
          Effect.sleep("500 millis"),
          Retry.retry(b.effect, policy, { cooldown: { key }, onEvent: bEvents.onEvent })
        )),
        Effect.fork(Effect.zipRight(
          Effect.sleep("500 millis"),
          Retry.retry(other.effect, policy, { cooldown: { key: "https://other.example.com" } })
        ))
      ])
      yield* TestClock.adjust("1 hour")
      expect(yield* Effect.all(fibers.map(Fiber.join))).toEqual(["a", "b", "other"])
      expect(a.times).toEqual([0, 2000])
      // b would have retried at 600 ms; it waits for a's cool-down instead.
      expect(b.times).toEqual([500, 2000])
      expect(bEvents.events[0]).toMatchObject({ _tag: "Retrying", delayFrom: "cooldown", delay: Duration.millis(1500) })
      expect(RetryEvent.format(bEvents.events[0]!)).toBe("waiting 1.5s for a cool-down another call received (attempt 2/3)")
      // Another key is unaffected.
      expect(other.times).toEqual([500, 600])
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("first attempts wait too when the call opts in, and report the wait and the success", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.RetryCooldown
      yield* cooldown.record(key, "2 seconds")
      const c = track(() => Effect.succeed("c"))
      const d = track(() => Effect.succeed("d"))
      const events = collectEvents()
      const fibers = yield* Effect.all([
        Effect.fork(Retry.retry(c.effect, policy, { cooldown: { key, firstAttempts: true }, onEvent: events.onEvent })),
        Effect.fork(Retry.retry(d.effect, policy, { cooldown: { key } }))
      ])
      yield* TestClock.adjust("1 hour")
      expect(yield* Effect.all(fibers.map(Fiber.join))).toEqual(["c", "d"])
      expect(c.times).toEqual([2000])
      expect(d.times).toEqual([0]) // not opted in: its first attempt goes at once
      expect(events.events.map((e) => e._tag)).toEqual(["Retrying", "Succeeded"])
      expect(events.events[0]).toMatchObject({ attempt: 0, delayFrom: "cooldown", delay: Duration.millis(2000) })
      expect(events.events[1]).toMatchObject({ attempts: 1 })
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a first attempt's wait is logged without an error: nothing has failed yet", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.RetryCooldown
      yield* cooldown.record(key, "2 seconds")
      const capture = captureLogs()
      const fiber = yield* Effect.fork(
        Retry.retry(Effect.succeed("ok"), policy, { cooldown: { key, firstAttempts: true } }).pipe(
          Effect.provide(capture.layer)
        )
      )
      yield* TestClock.adjust("1 minute")
      expect(yield* Fiber.join(fiber)).toBe("ok")
      const wait = capture.logs.find((log) => log.annotations.delayFrom === "cooldown")
      expect(wait?.annotations).toMatchObject({ attempt: 0, delayFrom: "cooldown" })
      expect(wait?.annotations).not.toHaveProperty("error")
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a first attempt waits out a cool-down only when the wait fits in the policy's maxElapsed", () =>
    Effect.gen(function*() {
      const budgeted = RetryPolicy.update(policy, { maxElapsed: "3 seconds" })
      const cooldown = yield* RetryCooldown.RetryCooldown
      const options = { cooldown: { key, firstAttempts: true } } as const
      // 2 s fits in 3 s: the first attempt waits, and the wait counts against the budget.
      yield* cooldown.record(key, "2 seconds")
      const fits = track((n) => n === 1 ? Effect.fail(new Busy({})) : Effect.succeed("fits"))
      const events = collectEvents()
      const first = yield* Effect.fork(Retry.retry(fits.effect, budgeted, { ...options, onEvent: events.onEvent }))
      yield* TestClock.adjust("1 minute")
      expect(yield* Fiber.join(first)).toBe("fits")
      expect(fits.times).toEqual([2000, 2100])
      // 60 s does not: the call is made at once, within its budget, instead of waiting a minute.
      yield* cooldown.record(key, "60 seconds")
      const start = yield* Clock.currentTimeMillis
      const late = track(() => Effect.succeed("at once"))
      const second = yield* Effect.fork(Retry.retry(late.effect, budgeted, options))
      yield* TestClock.adjust("1 hour")
      expect(yield* Fiber.join(second)).toBe("at once")
      expect(late.times.map((at) => at - start)).toEqual([0])
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a first attempt's wait counts against maxElapsed: a retry that would pass it is not made", () =>
    Effect.gen(function*() {
      const budgeted = RetryPolicy.update(policy, { maxElapsed: "3 seconds", baseDelay: "1500 millis" })
      const cooldown = yield* RetryCooldown.RetryCooldown
      yield* cooldown.record(key, "2 seconds")
      const call = track(() => Effect.fail(new Busy({})))
      const events = collectEvents()
      const fiber = yield* Effect.fork(Effect.exit(
        Retry.retry(call.effect, budgeted, { cooldown: { key, firstAttempts: true }, onEvent: events.onEvent })
      ))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      // Waited 2 s, failed at 2 s: a retry at 3.5 s would end past the 3 s budget.
      expect(call.times).toEqual([2000])
      expect(events.events.at(-1)).toMatchObject({ _tag: "GaveUp", reason: "deadline", attempts: 1 })
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a hint above the policy's maximum is recorded as the maximum; without a store nothing changes", () =>
    Effect.gen(function*() {
      const a = track((n) => n === 1 ? Effect.fail(new Busy({ retryAfter: "1 hour" })) : Effect.succeed("a"))
      const fiber = yield* Effect.fork(Retry.retry(a.effect, policy, { cooldown: { key } }))
      yield* TestClock.adjust("1 hour")
      yield* Fiber.join(fiber)
      expect(a.times).toEqual([0, 5000])
      const cooldown = yield* RetryCooldown.RetryCooldown
      yield* cooldown.record("x", "1 second")

      const alone = track((n) => n === 1 ? Effect.fail(new Busy({ retryAfter: "2 seconds" })) : Effect.succeed("alone"))
      const lone = yield* Effect.fork(
        Retry.retry(alone.effect, policy, { cooldown: { key, firstAttempts: true } }).pipe(
          Effect.provideService(RetryCooldown.RetryCooldown, yield* RetryCooldown.make)
        )
      )
      yield* TestClock.adjust("1 hour")
      expect(yield* Fiber.join(lone)).toBe("alone")
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a first attempt interrupted while it waits reports that it gave up", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.RetryCooldown
      yield* cooldown.record(key, "2 seconds")
      const events = collectEvents()
      const fiber = yield* Effect.fork(
        Retry.retry(Effect.succeed(1), policy, { cooldown: { key, firstAttempts: true }, onEvent: events.onEvent })
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      expect(events.events.map((e) => e._tag)).toEqual(["Retrying", "GaveUp"])
      expect(events.events[1]).toMatchObject({ reason: "interrupted", attempts: 0 })
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("under a Schedule the schedule decides every delay: its hints are not recorded, others' cool-downs are waited for", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.RetryCooldown
      const a = track((n) => n < 4 ? Effect.fail(new Busy({ retryAfter: "2 seconds" })) : Effect.succeed(n))
      const fiber = yield* Effect.fork(Retry.retry(a.effect, Schedule.spaced("10 millis"), { cooldown: { key } }))
      yield* TestClock.adjust("1 millis")
      expect(yield* cooldown.remaining(key)).toEqual(Duration.zero)
      yield* TestClock.adjust("1 hour")
      yield* Fiber.join(fiber)
      // Its own hints never lengthen its own retries, the second and third included.
      expect(a.times).toEqual([0, 10, 20, 30])
      // A cool-down that a policy-driven call recorded is waited for.
      yield* cooldown.record(key, "1 second")
      const b = track((n) => n === 1 ? Effect.fail(new Busy({})) : Effect.succeed(n))
      const start = yield* Clock.currentTimeMillis
      const other = yield* Effect.fork(Retry.retry(b.effect, Schedule.spaced("10 millis"), { cooldown: { key } }))
      yield* TestClock.adjust("1 hour")
      yield* Fiber.join(other)
      expect(b.times.map((t) => t - start)).toEqual([0, 1000])
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a hint above the maximum that the policy ignores is not recorded", () =>
    Effect.gen(function*() {
      const ignoring = policy.pipe(RetryPolicy.update({ retryAfter: { max: "1 second", whenAboveMax: "ignore", spread: 0 } }))
      const a = track((n) => n < 3 ? Effect.fail(new Busy({ retryAfter: "1 hour" })) : Effect.succeed(n))
      const events = collectEvents()
      const fiber = yield* Effect.fork(Retry.retry(a.effect, ignoring, { cooldown: { key }, onEvent: events.onEvent }))
      yield* TestClock.adjust("1 hour")
      yield* Fiber.join(fiber)
      // The backoff (100 ms, then 200 ms), as without a store: "ignore" disregards the hint.
      expect(a.times).toEqual([0, 100, 300])
      expect(events.events.map((event) => event._tag === "Retrying" && event.delayFrom)).toEqual(["backoff", "backoff", false])
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))

  it.effect("a first attempt that dies or is interrupted after its wait reports that it gave up", () =>
    Effect.gen(function*() {
      const cooldown = yield* RetryCooldown.RetryCooldown
      const run = (attempt: Effect.Effect<number>) =>
        Effect.gen(function*() {
          yield* cooldown.record(key, "1 second")
          const events = collectEvents()
          const fiber = yield* Effect.fork(
            Retry.retry(attempt, policy, { cooldown: { key, firstAttempts: true }, onEvent: events.onEvent })
          )
          yield* TestClock.adjust("2 seconds")
          yield* Fiber.interrupt(fiber)
          return events.events
        })
      // The status line showed the wait: it is cleared whatever ends the attempt that followed.
      expect(yield* run(Effect.never)).toMatchObject([{ _tag: "Retrying" }, { _tag: "GaveUp", reason: "interrupted", attempts: 1 }])
      expect(yield* run(Effect.die("boom"))).toMatchObject([{ _tag: "Retrying" }, { _tag: "GaveUp", reason: "defect", attempts: 1 }])
    }).pipe(Effect.provide(RetryCooldown.layerMemory)))
})

describe("HttpRetry.withRetry with RetryCooldown.layerMemory (loopback servers, real time)", () => {
  interface Server {
    readonly url: string
    readonly arrivals: Array<number>
    firstAnswered: number
    readonly close: () => Promise<void>
  }
  /** A loopback server answering request number `limitedAt` 429 Retry-After: 1, every other 200. */
  const serve = (limitedAt: number | undefined): Promise<Server> =>
    new Promise((resolve) => {
      const server = createServer((_, response) => {
        state.arrivals.push(performance.now())
        if (state.arrivals.length === limitedAt) {
          response.writeHead(429, { "retry-after": "1" }).end("slow down")
          state.firstAnswered = performance.now()
        } else response.writeHead(200).end("ok")
      })
      const state: Server = {
        url: "",
        arrivals: [],
        firstAnswered: Number.NaN,
        close: () => new Promise((done) => server.close(() => done()))
      }
      server.listen(0, "127.0.0.1", () =>
        resolve(Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat` })))
    })

  const policy = RetryPolicy.make({
    baseDelay: "20 millis",
    jitter: "none",
    maxAttempts: 2,
    retryAfter: { max: "5 seconds", whenAboveMax: "clamp", spread: 0 }
  })

  /**
   * Eight fibers of one process, each calling `url` every 25 ms for `millis`;
   * `sends` gets the time each attempt is handed to the HTTP client.
   */
  const eightFibers = (url: string, millis: number, options: HttpRetry.Options, sends: Array<number> = []) =>
    Effect.gen(function*() {
      const inner = HttpClient.transformResponse(
        yield* HttpClient.HttpClient,
        (response) => Effect.zipRight(Effect.sync(() => sends.push(performance.now())), response)
      )
      const client = inner.pipe(HttpRetry.withRetry(policy, options))
      const end = performance.now() + millis
      const one = Effect.gen(function*() {
        while (performance.now() < end) {
          const response = yield* client.get(url)
          yield* response.text
          yield* Effect.sleep("25 millis")
        }
      })
      yield* Effect.all(Array.from({ length: 8 }, () => Effect.scoped(one)), { concurrency: "unbounded" })
    })

  it("one 429 Retry-After: 1 stops the other fibers calling that origin for 1 s; another origin goes on", async () => {
    // The 429 comes once all eight fibers are under way (their first requests leave together).
    const limited = await serve(40)
    const free = await serve(undefined)
    const sends: Array<number> = []
    let toldAt = Number.NaN
    const onEvent = (event: RetryEvent.RetryEvent) =>
      Effect.sync(() => {
        if (event._tag === "Retrying" && event.delayFrom === "retry-after") toldAt = performance.now()
      })
    try {
      await Effect.runPromise(
        Effect.all([
          eightFibers(limited.url, 1800, { cooldown: "all", onEvent }, sends),
          eightFibers(free.url, 1800, { cooldown: "all" })
        ], { concurrency: "unbounded" }).pipe(
          Effect.provide(Layer.merge(RetryCooldown.layerMemory, NodeHttpClient.layerUndici)),
          RetryLog.off
        )
      )
      // From the moment the fiber that got the 429 announced its retry (the
      // cool-down is recorded just before), no fiber hands a request for that
      // origin to the client until the second is over; requests already handed
      // over may still arrive, so this counts sends, not arrivals.
      expect(toldAt).toBeGreaterThan(0)
      expect(sends.filter((at) => at > toldAt && at < toldAt + 900)).toEqual([])
      expect(sends.filter((at) => at >= toldAt + 900).length).toBeGreaterThan(0)
      expect(free.arrivals.filter((at) => at > toldAt && at < toldAt + 900).length).toBeGreaterThan(8)
    } finally {
      await limited.close()
      await free.close()
    }
  })

  it("cooldown \"off\" ignores it, and a cooldownKey keeps two API keys of one origin apart", async () => {
    const limited = await serve(1)
    try {
      const key = (request: HttpClientRequest.HttpClientRequest) => `${new URL(request.url).origin}#${request.headers["x-key-fingerprint"]}`
      await Effect.runPromise(Effect.gen(function*() {
        const client = (yield* HttpClient.HttpClient).pipe(HttpRetry.withRetry(policy, { cooldown: "all", cooldownKey: key }))
        const off = (yield* HttpClient.HttpClient).pipe(HttpRetry.withRetry(policy, { cooldown: "off" }))
        // Key "a" receives the 429 (and its retry waits 1 s); key "b" and the client with cool-downs off go on meanwhile.
        const a = yield* Effect.fork(Effect.scoped(client.get(limited.url, { headers: { "x-key-fingerprint": "a" } })))
        yield* Effect.sleep("100 millis")
        yield* Effect.scoped(client.get(limited.url, { headers: { "x-key-fingerprint": "b" } }))
        yield* Effect.scoped(off.get(limited.url))
        yield* Fiber.join(a)
      }).pipe(Effect.provide(Layer.merge(RetryCooldown.layerMemory, NodeHttpClient.layerUndici)), RetryLog.off))
      const t0 = limited.firstAnswered
      // 429, then "b" and "off" during the cool-down, then a's retry after it.
      expect(limited.arrivals).toHaveLength(4)
      expect(limited.arrivals[1]! - t0).toBeLessThan(900)
      expect(limited.arrivals[2]! - t0).toBeLessThan(900)
      expect(limited.arrivals[3]! - t0).toBeGreaterThanOrEqual(950)
    } finally {
      await limited.close()
    }
  })
})

describe("Retry.retry's cooldown option", () => {
  it("rejects a missing key or an unknown field with a typed error naming it", () => {
    const policy = RetryPolicy.default
    expect(() => Retry.retry(Effect.void, policy, { cooldown: { key: "" } })).toThrow(/cooldown\.key/)
    expect(() => Retry.retry(Effect.void, policy, { cooldown: { key: "k", firstAttempt: true } as never })).toThrow(
      /cooldown\.firstAttempt/
    )
  })

  it("rejects a firstAttempts that is not a boolean (\"true\" read from the environment) with a typed error", () => {
    for (const firstAttempts of ["true", 1, null]) {
      expect(() => Retry.retry(Effect.void, RetryPolicy.default, { cooldown: { key: "k", firstAttempts: firstAttempts as never } }))
        .toThrow(/cooldown\.firstAttempts/)
    }
  })
})
