import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Fiber, Metric, Option, TestClock } from "effect"
import { Retry, RetryBudget, RetryMetrics, RetryPolicy } from "../src/index.js"
import { alwaysBusy, Busy, busyUntil, collectEvents, runClocked, track } from "./helpers.js"

const noDelay = RetryPolicy.make({ baseDelay: 0, jitter: "none", maxAttempts: 3, name: "budget-tests" })

describe("RetryBudget.makeTokenBucket", () => {
  it.effect("charges retryCost per retry, timeoutCost after a timeout, and refuses when too few tokens are left", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeTokenBucket({ capacity: 12, retryCost: 5, timeoutCost: 10 })
      expect(yield* budget.withdraw("error")).toEqual(Option.some(5))
      expect(yield* budget.withdraw("error")).toEqual(Option.some(5))
      expect(yield* budget.withdraw("error")).toEqual(Option.none())
      expect((yield* budget.snapshot).available).toBe(12 - 5 - 5)
      yield* budget.succeeded(10)
      expect(yield* budget.withdraw("timeout")).toEqual(Option.some(10))
    }))

  it.effect("refunds what the retries cost after a success, successRefund after a first-attempt success, never above capacity", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeTokenBucket({ capacity: 20, successRefund: 1 })
      yield* budget.withdraw("error")
      yield* budget.withdraw("timeout")
      expect((yield* budget.snapshot).available).toBe(20 - 5 - 10)
      yield* budget.succeeded(0)
      expect((yield* budget.snapshot).available).toBe(20 - 15 + 1)
      yield* budget.succeeded(15)
      expect((yield* budget.snapshot).available).toBe(20)
    }))

  it.effect("grants exactly capacity / cost retries to a thousand concurrent fibers", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeTokenBucket({ capacity: 500, retryCost: 5 })
      const grants = yield* Effect.forEach(Array.from({ length: 1000 }), () => budget.withdraw("error"), {
        concurrency: "unbounded"
      })
      expect(grants.filter(Option.isSome)).toHaveLength(100)
      expect((yield* budget.snapshot).available).toBe(0)
    }))

  it("rejects invalid options with a typed error naming the field", () => {
    expect(() => RetryBudget.makeTokenBucket({ capacity: -1 })).toThrow(/capacity is -1/)
    expect(() => RetryBudget.makeTokenBucket({ retryCost: Number.NaN })).toThrow(/retryCost/)
    expect(() => RetryBudget.tokenBucket({ capcity: 5 } as never)).toThrow(/capcity/)
  })
})

describe("RetryBudget.makeRatio", () => {
  it.effect("allows percent of requests in the window plus minPerSecond, and forgets old requests", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeRatio({ percent: 20, window: "10 seconds", minPerSecond: 0 })
      for (let i = 0; i < 10; i++) yield* budget.request
      expect(yield* budget.withdraw("error")).toEqual(Option.some(1))
      expect(yield* budget.withdraw("error")).toEqual(Option.some(1))
      expect(yield* budget.withdraw("error")).toEqual(Option.none())
      // 11 seconds later the requests and retries have left the window.
      yield* TestClock.adjust("11 seconds")
      expect((yield* budget.snapshot).available).toBe(0)
      for (let i = 0; i < 5; i++) yield* budget.request
      expect(yield* budget.withdraw("error")).toEqual(Option.some(1))
      expect(yield* budget.withdraw("error")).toEqual(Option.none())
    }))

  it.effect("a quiet client may still retry minPerSecond times per second over the window", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeRatio({ percent: 20, window: "10 seconds", minPerSecond: 2 })
      const granted = yield* Effect.forEach(Array.from({ length: 25 }), () => budget.withdraw("error"))
      expect(granted.filter(Option.isSome)).toHaveLength(2 * 10)
    }))

  // The wall clock may be stepped back (NTP, a VM resumed): the retries already
  // taken must still count, never be wiped by an older slot taking their place.
  it.effect("a clock stepped back by a window or more does not give the spent retries back", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeRatio({ percent: 0, window: "10 seconds", minPerSecond: 1 })
      yield* TestClock.setTime(100_000)
      const spent = yield* Effect.forEach(Array.from({ length: 12 }), () => budget.withdraw("error"))
      expect(spent.filter(Option.isSome)).toHaveLength(10)
      for (const back of [10_000, 12_000]) {
        yield* TestClock.setTime(100_000 - back)
        yield* budget.request
        expect(yield* budget.withdraw("error"), `stepped back ${back} ms`).toEqual(Option.none())
        expect((yield* budget.snapshot).available).toBe(0)
      }
    }))

  it("rejects a zero window", () => {
    expect(() => RetryBudget.makeRatio({ window: 0 })).toThrow(/window/)
  })
})

describe("Retry.retry with a budget", () => {
  it.effect("a refused retry ends the call with its last error and a GaveUp event with reason budget", () =>
    Effect.gen(function*() {
      const giveUps = Metric.tagged(Metric.tagged(RetryMetrics.giveUps, "policy", "budget-tests"), "reason", "budget")
      const before = (yield* Metric.value(giveUps)).count
      const budget = yield* RetryBudget.makeTokenBucket({ capacity: 5, retryCost: 5 })
      const a = alwaysBusy()
      const events = collectEvents()
      const exit = yield* runClocked(Retry.retry(a.effect, noDelay, { budget, onEvent: events.onEvent }))
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe(Option.getOrThrow)._tag).toBe("Busy")
      expect(a.times).toHaveLength(2)
      expect(events.events.map((event) => event._tag)).toEqual(["Retrying", "GaveUp"])
      expect(events.events[1]).toMatchObject({ reason: "budget", attempts: 2 })
      expect((yield* Metric.value(giveUps)).count - before).toBe(1)
    }))

  it.effect("a call interrupted during the backoff gives back what it withdrew for the retry it never made", () =>
    Effect.gen(function*() {
      const slow = RetryPolicy.make({ name: "budget-tests", baseDelay: "1 second", jitter: "none", maxAttempts: 3 })
      const budget = yield* RetryBudget.makeTokenBucket({ capacity: 10, retryCost: 5 })
      const a = alwaysBusy()
      // The caller's own time limit ends the call during the 1 s backoff before its first retry.
      const fiber = yield* Effect.fork(Effect.exit(Effect.timeout(Retry.retry(a.effect, slow, { budget }), "500 millis")))
      yield* TestClock.adjust("1 hour")
      yield* Fiber.join(fiber)
      expect(a.times).toEqual([0])
      expect((yield* budget.snapshot).available).toBe(10)
      // A retry that was made keeps its cost: interrupted during its attempt, the call gives nothing back.
      const start = yield* Clock.currentTimeMillis
      const hanging = track((n) => n === 1 ? Effect.fail(new Busy({})) : Effect.never)
      const second = yield* Effect.fork(Effect.exit(Effect.timeout(Retry.retry(hanging.effect, slow, { budget }), "1500 millis")))
      yield* TestClock.adjust("1 hour")
      yield* Fiber.join(second)
      expect(hanging.times.map((at) => at - start)).toEqual([0, 1000])
      expect((yield* budget.snapshot).available).toBe(5)
    }))

  it.effect("uses the RetryBudget in the context and refunds a success after retries", () =>
    Effect.gen(function*() {
      const snapshot = yield* Effect.gen(function*() {
        const a = busyUntil(3, "ok")
        expect(yield* runClocked(Retry.retry(a.effect, noDelay))).toEqual(Exit.succeed("ok"))
        return yield* Effect.flatMap(RetryBudget.RetryBudget, (budget) => budget.snapshot)
      }).pipe(Effect.provide(RetryBudget.tokenBucket({ capacity: 100 })))
      // Two retries took 10 tokens; the success put them back.
      expect(snapshot.available).toBe(100)
    }))

  it.effect("a budget without request or succeeded rules: first attempts pass through, retries still draw on it", () =>
    Effect.gen(function*() {
      let left = 1
      const budget = RetryBudget.make({
        withdraw: () => (left > 0 ? Option.some(left--) : Option.none()),
        snapshot: () => ({ available: left, capacity: 1 })
      })
      expect(budget.unsafeRequest).toBeUndefined()
      expect(budget.unsafeSucceeded).toBeUndefined()
      expect(yield* Retry.retry(Effect.succeed("first"), noDelay, { budget })).toBe("first")
      yield* budget.request
      yield* budget.succeeded(0)
      const a = busyUntil(2, "ok")
      expect(yield* runClocked(Retry.retry(a.effect, noDelay, { budget }))).toEqual(Exit.succeed("ok"))
      const b = alwaysBusy()
      const events = collectEvents()
      yield* runClocked(Retry.retry(b.effect, noDelay, { budget, onEvent: events.onEvent }))
      expect(b.times).toHaveLength(1)
      expect(events.events.at(-1)).toMatchObject({ _tag: "GaveUp", reason: "budget" })
    }))

  it.effect("a budget written as a class has its hooks called as methods, on every path", () =>
    Effect.gen(function*() {
      class Counting implements RetryBudget.Service {
        requests = 0
        successes = 0
        readonly request = Effect.void
        readonly snapshot = Effect.succeed({ available: 1, capacity: 1 })
        withdraw() {
          return Effect.succeed(Option.some(1))
        }
        succeeded() {
          return Effect.void
        }
        unsafeRequest() {
          this.requests++
        }
        unsafeSucceeded() {
          this.successes++
        }
      }
      const budget = new Counting()
      const withDeadline = RetryPolicy.make({ baseDelay: 0, jitter: "none", maxAttempts: 3, maxElapsed: "1 minute" })
      yield* Retry.retry(Effect.succeed(1), noDelay, { budget })
      yield* Retry.retry(Effect.succeed(2), withDeadline, { budget })
      yield* Effect.provideService(Retry.retry(Effect.succeed(3), noDelay), RetryBudget.RetryBudget, budget)
      expect({ requests: budget.requests, successes: budget.successes }).toEqual({ requests: 3, successes: 3 })

      class CountingRules implements RetryBudget.Rules {
        requests = 0
        successes = 0
        request() {
          this.requests++
        }
        withdraw() {
          return Option.some(1)
        }
        succeeded() {
          this.successes++
        }
        snapshot() {
          return { available: 1, capacity: 1 }
        }
      }
      const rules = new CountingRules()
      const made = RetryBudget.make(rules)
      yield* Retry.retry(Effect.succeed(1), noDelay, { budget: made })
      yield* made.request
      yield* made.succeeded(5)
      expect({ requests: rules.requests, successes: rules.successes }).toEqual({ requests: 2, successes: 2 })
    }))

  it.effect("the success path records only what each budget counts", () =>
    Effect.gen(function*() {
      const bucket = yield* RetryBudget.makeTokenBucket({ capacity: 10, retryCost: 5, successRefund: 2 })
      const ratio = yield* RetryBudget.makeRatio({ percent: 50, window: "10 seconds", minPerSecond: 0 })
      expect(bucket.unsafeRequest).toBeUndefined()
      expect(ratio.unsafeSucceeded).toBeUndefined()
      yield* bucket.withdraw("error")
      yield* bucket.withdraw("error")
      yield* Retry.retry(Effect.succeed(1), noDelay, { budget: bucket })
      expect((yield* bucket.snapshot).available).toBe(2)
      // The requests are counted at the Clock's time: they leave the window with it.
      for (let i = 0; i < 4; i++) yield* Retry.retry(Effect.succeed(i), noDelay, { budget: ratio })
      expect((yield* ratio.snapshot).available).toBe(2)
      yield* TestClock.adjust("11 seconds")
      expect((yield* ratio.snapshot).available).toBe(0)
    }))

  it.effect("a first-attempt success deposits into a ratio budget", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeRatio({ percent: 50, minPerSecond: 0 })
      for (let i = 0; i < 4; i++) yield* Retry.retry(Effect.succeed(i), noDelay, { budget })
      expect((yield* budget.snapshot).available).toBe(2)
    }))
})
