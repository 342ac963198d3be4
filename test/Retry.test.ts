import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import { Retry, RetryBudget, RetryPolicy } from "../src/index.js"
import type { RetryEvent } from "../src/index.js"
import { alwaysBusy, Busy, busyUntil, collectEvents, draws, Fatal, relative, runClocked, track } from "./helpers.js"

/** No randomness, 500 ms then 1 s: easy arithmetic. */
const plain = RetryPolicy.make({ jitter: "none" })

class MyError extends Data.TaggedError("MyError")<{ readonly code: number }> {
  readonly isRetryable = true
}

class Dep extends Context.Tag("test/Dep")<Dep, number>() {}

const gaveUp = (events: ReadonlyArray<RetryEvent.RetryEvent>) => {
  const last = events[events.length - 1]
  if (last === undefined || last._tag !== "GaveUp") throw new Error(`expected a GaveUp event, got ${last?._tag}`)
  return last
}

describe("Retry.retry: forms and types", () => {
  it.effect("data-first and data-last forms behave the same", () =>
    Effect.gen(function*() {
      const first = busyUntil(3, "ok")
      const exitFirst = yield* runClocked(Retry.retry(first.effect, plain))
      const last = busyUntil(3, "ok")
      const exitLast = yield* runClocked(last.effect.pipe(Retry.retry(plain)))
      expect(exitFirst).toEqual(Exit.succeed("ok"))
      expect(exitLast).toEqual(Exit.succeed("ok"))
      expect(relative(first.times)).toEqual([0, 500, 500 + 1000])
      expect(relative(last.times)).toEqual([0, 500, 500 + 1000])
    }))

  it.effect("keeps the success, error and requirement types", () =>
    Effect.gen(function*() {
      const effect: Effect.Effect<number, MyError, Dep> = Effect.flatMap(Dep, (n) =>
        n > 0 ? Effect.succeed(n) : Effect.fail(new MyError({ code: n })))
      const dataFirst: Effect.Effect<number, MyError, Dep> = Retry.retry(effect, plain)
      const dataLast: Effect.Effect<number, MyError, Dep> = effect.pipe(Retry.retry(plain))
      const withWhile: Effect.Effect<number, MyError, Dep> = Retry.retry(effect, plain, {
        while: (error) => error.code !== 404
      })
      const dataLastWhile: Effect.Effect<number, MyError, Dep> = effect.pipe(
        Retry.retry(plain, { while: (error: MyError) => error.code !== 404 })
      )
      // @ts-expect-error the error type is kept, not erased
      const erased: Effect.Effect<number, never, Dep> = Retry.retry(effect, plain)
      void erased
      for (const program of [dataFirst, dataLast, withWhile, dataLastWhile]) {
        expect(yield* Effect.provideService(program, Dep, 7)).toBe(7)
      }
      const exit = yield* runClocked(Effect.provideService(dataFirst, Dep, 0))
      if (Exit.isSuccess(exit)) throw new Error("expected a failure")
      const error = Option.getOrThrow(Cause.failureOption(exit.cause))
      expect(error).toBeInstanceOf(MyError)
      expect(error.code).toBe(0)
    }))
})

describe("Retry.retry: what is retried", () => {
  it.effect("succeeds at once without retrying", () =>
    Effect.gen(function*() {
      const a = busyUntil(1, 42)
      const events = collectEvents()
      expect(yield* Retry.retry(a.effect, plain, { onEvent: events.onEvent })).toBe(42)
      expect(a.times.length).toBe(1)
      expect(events.events).toEqual([])
    }))

  it.effect("a non-retryable error stops at once and fails with that same instance", () =>
    Effect.gen(function*() {
      const fatal = new Fatal({ reason: "bad input" })
      const a = track(() => Effect.fail(fatal))
      const exit = yield* runClocked(Retry.retry(a.effect, plain))
      expect(a.times.length).toBe(1)
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isSuccess(exit)) return
      expect(Option.getOrThrow(Cause.failureOption(exit.cause))).toBe(fatal)
    }))

  it.effect("after exhaustion fails with the last error unchanged (3 attempts)", () =>
    Effect.gen(function*() {
      const errors: Array<Busy> = []
      const a = track((n) => {
        const error = new Busy({ n })
        errors.push(error)
        return Effect.fail(error)
      })
      const exit = yield* runClocked(Retry.retry(a.effect, plain))
      expect(a.times.length).toBe(3)
      expect(errors.length).toBe(3)
      if (Exit.isSuccess(exit)) throw new Error("expected a failure")
      const error = Option.getOrThrow(Cause.failureOption(exit.cause))
      expect(error).toBe(errors[2])
      expect(error.n).toBe(3)
      expect(Cause.isDie(exit.cause)).toBe(false)
    }))

  it.effect("a defect is never retried", () =>
    Effect.gen(function*() {
      const defect = new Busy({ n: 1 }) // even one that says it is retryable
      const a = track(() => Effect.die(defect))
      const exit = yield* runClocked(Retry.retry(a.effect, plain))
      expect(a.times.length).toBe(1)
      expect(exit).toEqual(Exit.die(defect))
    }))

  it.effect("interrupting the fiber during a backoff sleep ends it at once, with no further attempt", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      const events = collectEvents()
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(Retry.retry(a.effect, plain, { onEvent: events.onEvent }))
      yield* TestClock.adjust("300 millis") // inside the 500 ms sleep
      expect(a.times.length).toBe(1)
      const exit = yield* Fiber.interrupt(fiber)
      expect((yield* Clock.currentTimeMillis) - start).toBe(300)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* TestClock.adjust("1 hour")
      expect(a.times.length).toBe(1)
      // The interruption closes the call's events, so a status line is cleared.
      expect(events.events.map((event) => event._tag)).toEqual(["Retrying", "GaveUp"])
      expect(gaveUp(events.events)).toMatchObject({ reason: "interrupted", attempts: 1 })
    }))

  it.effect("a defect after retrying began is not retried and closes the events with reason defect", () =>
    Effect.gen(function*() {
      const defect = new Error("bug")
      const a = track((n) => n === 1 ? Effect.fail(new Busy({ n })) : Effect.die(defect))
      const seen: Array<string> = []
      // A listener that takes a few turns of the scheduler: the call must still return after it.
      const onEvent = (event: RetryEvent.RetryEvent) =>
        Effect.zipRight(Effect.repeatN(Effect.yieldNow(), 20), Effect.sync(() => seen.push(event._tag)))
      const exit = yield* runClocked(Effect.ensuring(Retry.retry(a.effect, plain, { onEvent }), Effect.sync(() => seen.push("returned"))))
      expect(exit).toEqual(Exit.die(defect))
      expect(a.times.length).toBe(2)
      // The second attempt was made (and died): two attempts. The closing event came before the call returned.
      expect(seen).toEqual(["Retrying", "GaveUp", "returned"])
      const events = collectEvents()
      const again = track((n) => n === 1 ? Effect.fail(new Busy({ n })) : Effect.die(defect))
      yield* runClocked(Retry.retry(again.effect, plain, { onEvent: events.onEvent }))
      expect(gaveUp(events.events)).toMatchObject({ reason: "defect", attempts: 2 })
    }))

  it.effect("an interruption inside a later attempt counts that attempt", () =>
    Effect.gen(function*() {
      const a = track((n) => n === 1 ? Effect.fail(new Busy({ n })) : Effect.never)
      const events = collectEvents()
      const fiber = yield* Effect.fork(Retry.retry(a.effect, plain, { onEvent: events.onEvent }))
      yield* TestClock.adjust("1 minute")
      expect(a.times.length).toBe(2)
      yield* Fiber.interrupt(fiber)
      expect(gaveUp(events.events)).toMatchObject({ reason: "interrupted", attempts: 2 })
    }))

  it.effect("the while option replaces the classifier", () =>
    Effect.gen(function*() {
      // a plain Error is retried when `while` says so
      const a = track((n) => n < 3 ? Effect.fail(new Error(`boom ${n}`)) : Effect.succeed("ok"))
      expect(yield* runClocked(Retry.retry(a.effect, plain, { while: (error) => error instanceof Error })))
        .toEqual(Exit.succeed("ok"))
      expect(a.times.length).toBe(3)
      // and a retryable error is not retried when `while` says no
      const b = alwaysBusy()
      const events = collectEvents()
      yield* runClocked(Retry.retry(b.effect, plain, { while: () => false, onEvent: events.onEvent }))
      expect(b.times.length).toBe(1)
      expect(gaveUp(events.events).reason).toBe("not-retryable")
      // data-last, by field
      const c = track((n) => Effect.fail({ status: n === 1 ? 503 : 400 }))
      const exit = yield* runClocked(
        c.effect.pipe(Retry.retry(plain, { while: (error: { readonly status: number }) => error.status >= 500 }))
      )
      expect(c.times.length).toBe(2)
      expect(exit).toEqual(Exit.fail({ status: 400 }))
    }))
})

describe("Retry.retry: Retry-After", () => {
  it.effect("a Retry-After hint on the error replaces the backoff", () =>
    Effect.gen(function*() {
      // default policy: backoff draws 0.5 (500 · (0.75 + 0.5 · 0.5) = 500), the hint draws 0.5
      const a = track((n) => n === 1 ? Effect.fail(new Busy({ n, retryAfter: "3 seconds" })) : Effect.succeed(n))
      const exit = yield* runClocked(
        Retry.retry(a.effect, RetryPolicy.default).pipe(Effect.withRandom(Random.fixed([0.5, 0.5])))
      )
      expect(exit).toEqual(Exit.succeed(2))
      expect(relative(a.times)).toEqual([0, 3000 + 0.5 * 0.1 * 3000])
    }))

  it.effect("retryAfter: false ignores hints", () =>
    Effect.gen(function*() {
      const a = track((n) => Effect.fail(new Busy({ n, retryAfter: "3 seconds" })))
      yield* runClocked(Retry.retry(a.effect, RetryPolicy.make({ jitter: "none", retryAfter: false })))
      expect(relative(a.times)).toEqual([0, 500, 500 + 1000])
    }))

  const aboveMax = (whenAboveMax: "fail" | "clamp" | "ignore") =>
    Effect.gen(function*() {
      const policy = RetryPolicy.make({ jitter: "none", maxAttempts: 2, retryAfter: { max: "5 seconds", whenAboveMax } })
      const a = track((n) => Effect.fail(new Busy({ n, retryAfter: "10 seconds" })))
      const events = collectEvents()
      const exit = yield* runClocked(Retry.retry(a.effect, policy, { onEvent: events.onEvent }))
      expect(Exit.isFailure(exit)).toBe(true)
      return { times: relative(a.times), events: events.events }
    })

  it.effect("above max with \"fail\": gives up at once, reason retry-after-too-long", () =>
    Effect.gen(function*() {
      const { events, times } = yield* aboveMax("fail")
      expect(times).toEqual([0])
      expect(events.length).toBe(1)
      expect(gaveUp(events).reason).toBe("retry-after-too-long")
      expect(gaveUp(events).attempts).toBe(1)
    }))

  it.effect("above max with \"clamp\": waits exactly max", () =>
    Effect.gen(function*() {
      const { events, times } = yield* aboveMax("clamp")
      expect(times).toEqual([0, 5000])
      expect(gaveUp(events).reason).toBe("exhausted")
    }))

  it.effect("above max with \"ignore\": uses the backoff", () =>
    Effect.gen(function*() {
      const { times } = yield* aboveMax("ignore")
      expect(times).toEqual([0, 500])
    }))
})

describe("Retry.retry: maxElapsed", () => {
  const slowFirst = (firstMillis: number) => {
    const errors: Array<Busy> = []
    const tracked = track((n) => {
      const error = new Busy({ n })
      errors.push(error)
      return Effect.zipRight(Effect.sleep(n === 1 ? firstMillis : 1500), Effect.fail(error))
    })
    return { ...tracked, errors }
  }

  it.effect("is measured from the start of the first attempt: a retry ending past the budget is not taken", () =>
    Effect.gen(function*() {
      // attempt 1 runs 0..2000; a 1000 ms retry would end at 3000 > 2500
      const policy = RetryPolicy.make({ jitter: "none", baseDelay: 1000, maxAttempts: 5, maxElapsed: 2500 })
      const a = slowFirst(2000)
      const events = collectEvents()
      const exit = yield* runClocked(Retry.retry(a.effect, policy, { onEvent: events.onEvent }))
      expect(a.times.length).toBe(1)
      expect(events.events.length).toBe(1)
      expect(gaveUp(events.events).reason).toBe("deadline")
      expect(gaveUp(events.events).attempts).toBe(1)
      if (Exit.isSuccess(exit)) throw new Error("expected a failure")
      expect(Option.getOrThrow(Cause.failureOption(exit.cause))).toBe(a.errors[0])
    }))

  it.effect("a retry whose sleep ends exactly at the budget is taken", () =>
    Effect.gen(function*() {
      // attempt 1 runs 0..1500, sleeps 1000 -> attempt 2 at 2500 = budget; it runs to 4000,
      // and the next 2000 ms retry would end at 6000 > 2500
      const policy = RetryPolicy.make({ jitter: "none", baseDelay: 1000, maxAttempts: 5, maxElapsed: 2500 })
      const a = slowFirst(1500)
      const events = collectEvents()
      yield* runClocked(Retry.retry(a.effect, policy, { onEvent: events.onEvent }))
      expect(relative(a.times)).toEqual([0, 1500 + 1000])
      expect(gaveUp(events.events)).toMatchObject({ reason: "deadline", attempts: 2 })
    }))

  it.effect("without maxElapsed the same call is not cut short", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.make({ jitter: "none", baseDelay: 1000, maxAttempts: 3 })
      const a = slowFirst(2000)
      const events = collectEvents()
      yield* runClocked(Retry.retry(a.effect, policy, { onEvent: events.onEvent }))
      // 0..2000, +1000, 3000..4500, +2000, 6500
      expect(relative(a.times)).toEqual([0, 2000 + 1000, 2000 + 1000 + 1500 + 2000])
      expect(gaveUp(events.events).reason).toBe("exhausted")
    }))

  it.effect("the time a Retrying listener takes is part of the delay, and never carries an attempt past maxElapsed", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.make({ jitter: "none", baseDelay: 500, maxAttempts: 2, maxElapsed: 1000 })
      const run = (listenerMillis: number) =>
        Effect.gen(function*() {
          const a = alwaysBusy()
          const events = collectEvents()
          const budget = yield* RetryBudget.makeTokenBucket({ capacity: 50 })
          const onEvent = (event: RetryEvent.RetryEvent) =>
            Effect.zipRight(event._tag === "Retrying" ? Effect.sleep(listenerMillis) : Effect.void, events.onEvent(event))
          yield* runClocked(Retry.retry(a.effect, policy, { onEvent, budget }))
          const tokens = (yield* budget.snapshot).available
          return { times: relative(a.times), reason: gaveUp(events.events).reason, tokens }
        })
      // A 300 ms listener: the retry still comes at 500 ms, not 800.
      expect(yield* run(300)).toEqual({ times: [0, 500], reason: "exhausted", tokens: 45 })
      // An 800 ms listener: at 800 ms, when it returns, not 1300 ms (past the 1 s budget).
      expect(yield* run(800)).toEqual({ times: [0, 800], reason: "exhausted", tokens: 45 })
      // A 1.5 s listener: the time budget is spent when it returns, so no retry, and its tokens come back.
      expect(yield* run(1500)).toEqual({ times: [0], reason: "deadline", tokens: 50 })
    }))
})

describe("Retry.retry with delays that overflow", () => {
  it.effect("a delay that grows past a double's range is capped, never turned into NaN or zero", () =>
    Effect.gen(function*() {
      // 10^(n-1) ms overflows to Infinity by retry 310; equal jitter with a zero draw is ∞/2 + 0.
      const policy = RetryPolicy.make({ maxAttempts: 330, baseDelay: 1, factor: 10, maxDelay: 10, jitter: "equal" })
      const a = alwaysBusy()
      yield* runClocked(Retry.retry(a.effect, policy).pipe(Effect.withRandom(draws([0]))), "1 hour")
      expect(a.times).toHaveLength(330)
      const gaps = a.times.slice(1).map((t, i) => t - a.times[i]!)
      expect(gaps.slice(300)).toEqual(Array.from({ length: 29 }, () => 10))
    }))
})
