import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import { RetryPolicy, RetrySchedule } from "../src/index.js"
import { alwaysBusy, Busy, draws as fixed, Fatal, relative, runClocked, track } from "./helpers.js"

const outputs = <Out>(schedule: Schedule.Schedule<Out, unknown>, inputs: number) =>
  Schedule.run(schedule, 0, Array.from({ length: inputs }, (_, i) => i)).pipe(Effect.map(Chunk.toArray))

const toMillis = (durations: ReadonlyArray<Duration.Duration>) => durations.map(Duration.toMillis)

describe("RetrySchedule.backoff", () => {
  it.effect("outputs base · factor^(n-1) without jitter", () =>
    Effect.gen(function*() {
      const out = yield* outputs(RetrySchedule.backoff({ baseDelay: "100 millis", factor: 3, jitter: "none" }), 4)
      expect(toMillis(out)).toEqual([100, 100 * 3, 100 * 3 ** 2, 100 * 3 ** 3])
    }))

  it.effect("uses the defaults: 500 ms, factor 2, jitter 0.75..1.25", () =>
    Effect.gen(function*() {
      const out = yield* outputs(RetrySchedule.backoff(), 3).pipe(Effect.withRandom(Random.fixed([0, 0.5, 0.999])))
      expect(toMillis(out)).toEqual([
        500 * (0.75 + 0 * 0.5),
        1000 * (0.75 + 0.5 * 0.5),
        2000 * (0.75 + 0.999 * 0.5)
      ])
    }))

  it.effect("outputs the jittered delay for each kind", () =>
    Effect.gen(function*() {
      const draws = Random.fixed([0.2, 0.6])
      const full = yield* outputs(RetrySchedule.backoff({ baseDelay: 1000, jitter: "full" }), 2).pipe(
        Effect.withRandom(draws)
      )
      expect(toMillis(full)).toEqual([0.2 * 1000, 0.6 * 2000])
      const equal = yield* outputs(RetrySchedule.backoff({ baseDelay: 1000, jitter: "equal" }), 2).pipe(
        Effect.withRandom(draws)
      )
      expect(toMillis(equal)).toEqual([500 + 0.2 * 500, 1000 + 0.6 * 1000])
      const decorrelated = yield* outputs(RetrySchedule.backoff({ baseDelay: 1000, jitter: "decorrelated" }), 2)
        .pipe(Effect.withRandom(draws))
      const first = 1000 + 0.2 * (3 * 1000 - 1000)
      expect(toMillis(decorrelated)).toEqual([first, 1000 + 0.6 * (3 * first - 1000)])
    }))

  it.effect("its delays are the sleeps of Effect.retry", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      yield* runClocked(
        Effect.retry(a.effect, RetrySchedule.backoff({ baseDelay: 100, jitter: "none" }).pipe(RetrySchedule.limited(4)))
      )
      expect(relative(a.times)).toEqual([0, 100, 100 + 200, 100 + 200 + 400])
    }))

  it("validates its options", () => {
    expect(() => RetrySchedule.backoff({ factor: 0.5 })).toThrow(RetryPolicy.InvalidRetryPolicy)
    expect(() => RetrySchedule.backoff({ baseDelay: -1 })).toThrow(RetryPolicy.InvalidRetryPolicy)
    expect(() => RetrySchedule.backoff({ jitter: "wild" as never })).toThrow(RetryPolicy.InvalidRetryPolicy)
    expect(() => RetrySchedule.backoff({ base: 1 } as never)).toThrow(RetryPolicy.InvalidRetryPolicy)
  })
})

describe("RetrySchedule.capped", () => {
  it.effect("caps every delay (pipeable and data-first)", () =>
    Effect.gen(function*() {
      const piped = yield* outputs(
        Schedule.exponential("1 second").pipe(RetrySchedule.capped("3 seconds"), Schedule.delays),
        4
      )
      expect(toMillis(piped)).toEqual([1000, 2000, 3000, 3000])
      const dataFirst = yield* outputs(
        Schedule.delays(RetrySchedule.capped(Schedule.exponential("1 second"), 1500)),
        3
      )
      expect(toMillis(dataFirst)).toEqual([1000, 1500, 1500])
    }))

  it.effect("is what Effect.retry sleeps", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      yield* runClocked(
        Effect.retry(a.effect, Schedule.spaced("5 seconds").pipe(RetrySchedule.capped("2 seconds"), RetrySchedule.limited(3)))
      )
      expect(relative(a.times)).toEqual([0, 2000, 4000])
    }))
})

describe("RetrySchedule.limited", () => {
  for (const n of [1, 2, 4]) {
    it.effect(`limited(${n}) gives ${n} attempts in all`, () =>
      Effect.gen(function*() {
        const a = alwaysBusy()
        const exit = yield* runClocked(Effect.retry(a.effect, Schedule.spaced("100 millis").pipe(RetrySchedule.limited(n))))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(a.times.length).toBe(n)
        expect(relative(a.times)).toEqual(Array.from({ length: n }, (_, i) => i * 100))
      }))
  }

  it.effect("keeps the output of the schedule", () =>
    Effect.gen(function*() {
      const out = yield* outputs(RetrySchedule.limited(Schedule.exponential(10), 3), 5)
      // two recurrences continue; the third step is done but still reports its output
      expect(toMillis(out)).toEqual([10, 20, 40])
    }))

  it("rejects fewer than 1 attempt", () => {
    expect(() => RetrySchedule.limited(Schedule.forever, 0)).toThrow(RetryPolicy.InvalidRetryPolicy)
    expect(() => RetrySchedule.limited(Schedule.forever, 1.5)).toThrow(RetryPolicy.InvalidRetryPolicy)
  })
})

describe("RetrySchedule.whileRetryable", () => {
  it.effect("stops at the first non-retryable failure", () =>
    Effect.gen(function*() {
      const fatal = new Fatal({ reason: "bad input" })
      const a = track((n) => Effect.fail(n < 3 ? new Busy({ n }) : fatal))
      const exit = yield* runClocked(
        Effect.retry(a.effect, Schedule.spaced(10).pipe(RetrySchedule.whileRetryable(), RetrySchedule.limited(10)))
      )
      expect(a.times.length).toBe(3)
      expect(exit).toEqual(Exit.fail(fatal))
    }))

  it.effect("does not retry plain errors or values", () =>
    Effect.gen(function*() {
      for (const error of [new Error("boom"), "boom", { isRetryable: "true" }]) {
        const a = track(() => Effect.fail(error))
        yield* runClocked(Effect.retry(a.effect, RetrySchedule.whileRetryable(Schedule.spaced(10))))
        expect(a.times.length).toBe(1)
      }
    }))

  it.effect("accepts a custom predicate that replaces isRetryable", () =>
    Effect.gen(function*() {
      const statuses = [503, 502, 404, 500]
      const a = track((n) => Effect.fail({ status: statuses[n - 1]! }))
      const exit = yield* runClocked(
        Effect.retry(
          a.effect,
          Schedule.spaced(10).pipe(
            RetrySchedule.whileRetryable((error: { readonly status: number }) => error.status >= 500),
            RetrySchedule.limited(10)
          )
        )
      )
      expect(a.times.length).toBe(3)
      expect(exit).toEqual(Exit.fail({ status: 404 }))
      // a custom predicate can also refuse an error that says it is retryable
      const b = alwaysBusy()
      yield* runClocked(Effect.retry(b.effect, RetrySchedule.whileRetryable(Schedule.spaced(10), () => false)))
      expect(b.times.length).toBe(1)
    }))
})

describe("RetrySchedule.honorRetryAfter", () => {
  // The backoff under test waits 1 s; hints are chosen to differ from it.
  const base = RetrySchedule.backoff({ baseDelay: "1 second", jitter: "none" })

  const secondAttempt = (
    schedule: Schedule.Schedule<unknown, unknown>,
    retryAfter: Duration.DurationInput,
    draws: ReadonlyArray<number> = [0]
  ) =>
    Effect.gen(function*() {
      const a = track((n) => Effect.fail(new Busy({ n, retryAfter })))
      const exit = yield* runClocked(
        Effect.retry(a.effect, schedule.pipe(RetrySchedule.limited(2))).pipe(Effect.withRandom(fixed(draws)))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      return relative(a.times)
    })

  it.effect("a hint replaces the schedule's delay", () =>
    Effect.gen(function*() {
      expect(yield* secondAttempt(base.pipe(RetrySchedule.honorRetryAfter({ spread: 0 })), "3 seconds")).toEqual([
        0,
        3000
      ])
      expect(yield* secondAttempt(RetrySchedule.honorRetryAfter(base, { spread: 0 }), 250)).toEqual([0, 250])
      // without honorRetryAfter the hint is ignored
      expect(yield* secondAttempt(base, "3 seconds")).toEqual([0, 1000])
    }))

  it.effect("adds at most spread · hint, never less than the hint", () =>
    Effect.gen(function*() {
      const hint = 2000
      const [, high] = yield* secondAttempt(base.pipe(RetrySchedule.honorRetryAfter()), hint, [0.999])
      expect(high).toBe(hint + 0.999 * 0.1 * hint)
      expect(high).toBeLessThanOrEqual(hint * 1.1)
      const [, low] = yield* secondAttempt(base.pipe(RetrySchedule.honorRetryAfter()), hint, [0])
      expect(low).toBe(hint)
      const [, mid] = yield* secondAttempt(base.pipe(RetrySchedule.honorRetryAfter({ spread: 0.5 })), hint, [0.5])
      expect(mid).toBe(hint + 0.5 * 0.5 * hint)
    }))

  it.effect("a zero hint retries immediately", () =>
    Effect.gen(function*() {
      expect(yield* secondAttempt(base.pipe(RetrySchedule.honorRetryAfter()), 0, [0.5])).toEqual([0, 0])
    }))

  it.effect("above max: \"fail\" stops the schedule", () =>
    Effect.gen(function*() {
      const times = yield* secondAttempt(
        base.pipe(RetrySchedule.honorRetryAfter({ max: "5 seconds", whenAboveMax: "fail" })),
        "10 seconds"
      )
      expect(times).toEqual([0])
      // the default mode is "fail" too
      expect(yield* secondAttempt(base.pipe(RetrySchedule.honorRetryAfter({ max: "5 seconds" })), "10 seconds"))
        .toEqual([0])
    }))

  it.effect("above max: \"clamp\" waits exactly max", () =>
    Effect.gen(function*() {
      const times = yield* secondAttempt(
        base.pipe(RetrySchedule.honorRetryAfter({ max: "5 seconds", whenAboveMax: "clamp" })),
        "10 seconds",
        [0.999]
      )
      expect(times).toEqual([0, 5000])
    }))

  it.effect("above max: \"ignore\" uses the schedule's delay", () =>
    Effect.gen(function*() {
      const times = yield* secondAttempt(
        base.pipe(RetrySchedule.honorRetryAfter({ max: "5 seconds", whenAboveMax: "ignore" })),
        "10 seconds"
      )
      expect(times).toEqual([0, 1000])
    }))

  it.effect("a hint exactly at max is honoured", () =>
    Effect.gen(function*() {
      const times = yield* secondAttempt(
        base.pipe(RetrySchedule.honorRetryAfter({ max: "5 seconds", spread: 0 })),
        "5 seconds"
      )
      expect(times).toEqual([0, 5000])
    }))

  it("validates its options", () => {
    expect(() => RetrySchedule.honorRetryAfter(base, { spread: -1 })).toThrow(RetryPolicy.InvalidRetryPolicy)
    expect(() => base.pipe(RetrySchedule.honorRetryAfter({ whenAboveMax: "maybe" as never }))).toThrow(
      RetryPolicy.InvalidRetryPolicy
    )
  })
})

describe("RetrySchedule.deadline", () => {
  it.effect("never overshoots: spaced 800 ms with a 1 s deadline attempts at 0 and 800 only", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      yield* runClocked(Effect.retry(a.effect, Schedule.spaced("800 millis").pipe(RetrySchedule.deadline("1 second"))))
      expect(relative(a.times)).toEqual([0, 800])
    }))

  it.effect("unlike Schedule.upTo, which also attempts at 1600", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      yield* runClocked(Effect.retry(a.effect, Schedule.spaced("800 millis").pipe(Schedule.upTo("1 second"))))
      expect(relative(a.times)).toEqual([0, 800, 1600])
    }))

  it.effect("a retry ending exactly at the deadline is taken (data-first)", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      yield* runClocked(Effect.retry(a.effect, RetrySchedule.deadline(Schedule.spaced(500), 1000)))
      expect(relative(a.times)).toEqual([0, 500, 1000])
    }))

  it.effect("still stops when the inner schedule stops", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      yield* runClocked(
        Effect.retry(a.effect, Schedule.spaced(100).pipe(RetrySchedule.limited(2), RetrySchedule.deadline("1 hour")))
      )
      expect(relative(a.times)).toEqual([0, 100])
    }))

  it("validates maxElapsed", () => {
    expect(() => RetrySchedule.deadline(Schedule.forever, -1)).toThrow(RetryPolicy.InvalidRetryPolicy)
  })
})

describe("the combinators compose like toSchedule", () => {
  it.effect("backoff → capped → honorRetryAfter → whileRetryable → limited → deadline", () =>
    Effect.gen(function*() {
      const schedule = RetrySchedule.backoff({ baseDelay: 1000, jitter: "none" }).pipe(
        RetrySchedule.capped("3 seconds"),
        RetrySchedule.honorRetryAfter({ spread: 0 }),
        RetrySchedule.whileRetryable(),
        RetrySchedule.limited(5),
        RetrySchedule.deadline("20 seconds")
      )
      // attempt 2 asks for 500 ms; the others back off 1000, 2000, min(4000, 3000), min(8000, 3000)
      const a = track((n) => Effect.fail(new Busy(n === 2 ? { n, retryAfter: 500 } : { n })))
      yield* runClocked(Effect.retry(a.effect, schedule))
      expect(relative(a.times)).toEqual([0, 1000, 1000 + 500, 1000 + 500 + 3000, 1000 + 500 + 3000 + 3000])
    }))
})
