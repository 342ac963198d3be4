import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import * as Random from "effect/Random"
import { Retry, RetryEvent, RetryPolicy } from "../src/index.js"
import type { RetrySchedule } from "../src/index.js"
import { alwaysBusy, Busy, collectEvents, draws, Fatal, relative, runClocked, track } from "./helpers.js"

const RUNS = { fastCheck: { numRuns: 100 } }

/** Float slack for `(now + delay) - now` round trips through the clock. */
const EPSILON = 1e-6

/** One nanosecond, in milliseconds. */
const NANOSECOND = 1e-6

/**
 * How far a time may land from its exact value after `sleeps` sleeps. A
 * `Duration` holds whole nanoseconds, so each sleep is its delay rounded to
 * one, and a delay within float error of a half nanosecond rounds either way
 * depending on what the clock reads (two runs in one test start a day apart).
 * The float error itself stays far below 1e-7 ms.
 */
const sameTimeSlack = (sleeps: number) => sleeps * NANOSECOND + 1e-7

/** Asserts that two runs attempted at the same times, sleep by sleep. */
const expectSameTimes = (actual: ReadonlyArray<number>, expected: ReadonlyArray<number>) => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((t, i) => expect(Math.abs(t - expected[i]!)).toBeLessThanOrEqual(sameTimeSlack(i)))
}

const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

const jitter: fc.Arbitrary<RetrySchedule.Jitter> = fc.oneof(
  fc.constantFrom<RetrySchedule.Jitter>("none", "full", "equal", "decorrelated"),
  fc.tuple(fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true })).map((
    [a, b]
  ) => ({ min: Math.min(a, b), max: Math.max(a, b) }))
)

const policyOptions = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 6 }),
  baseDelay: fc.integer({ min: 0, max: 2000 }),
  maxDelay: fc.integer({ min: 0, max: 10_000 }),
  factor: fc.double({ min: 1, max: 4, noNaN: true }),
  jitter
})

const randomDraws = fc.array(unit, { minLength: 1, maxLength: 12 })

const retryingDelays = (events: ReadonlyArray<RetryEvent.RetryEvent>) =>
  events.filter(RetryEvent.$is("Retrying")).map((event) => Duration.toMillis(event.delay))

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((t, i) => t - times[i]!)

/** Runs `Effect.retry(toSchedule(policy))`, then `Retry.retry(policy)` (a day later on the clock), and compares. */
const bothRunnersAttemptAtTheSameTimes = (options: RetryPolicy.Options, values: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const policy = RetryPolicy.make(options)
    const viaSchedule = alwaysBusy()
    yield* runClocked(
      Effect.retry(viaSchedule.effect, RetryPolicy.toSchedule(policy)).pipe(Effect.withRandom(draws(values))),
      "1 day"
    )
    const viaRetry = alwaysBusy()
    yield* runClocked(Retry.retry(viaRetry.effect, policy).pipe(Effect.withRandom(draws(values))), "1 day")
    expectSameTimes(relative(viaRetry.times), relative(viaSchedule.times))
  })

describe("properties of retry delays", () => {
  it.effect.prop(
    "every delay is within [0, maxDelay] and the sleeps match the reported delays",
    { options: policyOptions, values: randomDraws },
    ({ options, values }) =>
      Effect.gen(function*() {
        const policy = RetryPolicy.make(options)
        const a = alwaysBusy()
        const { events, onEvent } = collectEvents()
        yield* runClocked(Retry.retry(a.effect, policy, { onEvent }).pipe(Effect.withRandom(draws(values))), "1 day")
        const delays = retryingDelays(events)
        for (const delay of delays) {
          expect(delay).toBeGreaterThanOrEqual(0)
          expect(delay).toBeLessThanOrEqual(options.maxDelay + EPSILON)
        }
        const slept = gaps(a.times)
        expect(slept.length).toBe(delays.length)
        slept.forEach((gap, i) => expect(Math.abs(gap - delays[i]!)).toBeLessThanOrEqual(sameTimeSlack(1)))
      }),
    RUNS
  )

  it.effect.prop(
    "attempts never exceed maxAttempts (and reach it when every failure is retryable)",
    { options: policyOptions, values: randomDraws },
    ({ options, values }) =>
      Effect.gen(function*() {
        const a = alwaysBusy()
        const { events, onEvent } = collectEvents()
        yield* runClocked(
          Retry.retry(a.effect, RetryPolicy.make(options), { onEvent }).pipe(Effect.withRandom(draws(values))),
          "1 day"
        )
        expect(a.times.length).toBeLessThanOrEqual(options.maxAttempts)
        expect(a.times.length).toBe(options.maxAttempts)
        const last = events[events.length - 1]
        expect(last).toMatchObject({ _tag: "GaveUp", attempts: options.maxAttempts, reason: "exhausted" })
      }),
    RUNS
  )

  it.effect.prop(
    "with maxElapsed, no attempt starts after the budget (counted from the first attempt's start)",
    {
      options: policyOptions,
      values: randomDraws,
      maxElapsed: fc.integer({ min: 0, max: 15_000 }),
      durations: fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 6 })
    },
    ({ durations, maxElapsed, options, values }) =>
      Effect.gen(function*() {
        const policy = RetryPolicy.make({ ...options, maxElapsed })
        const a = track((n) =>
          Effect.zipRight(Effect.sleep(durations[(n - 1) % durations.length]!), Effect.fail(new Busy({ n })))
        )
        const { events, onEvent } = collectEvents()
        yield* runClocked(Retry.retry(a.effect, policy, { onEvent }).pipe(Effect.withRandom(draws(values))), "1 day")
        const starts = relative(a.times)
        expect(starts[starts.length - 1]!).toBeLessThanOrEqual(maxElapsed + sameTimeSlack(starts.length - 1))
        expect(a.times.length).toBeLessThanOrEqual(options.maxAttempts)
        const last = events[events.length - 1]
        expect(last?._tag).toBe("GaveUp")
        if (a.times.length < options.maxAttempts) expect(last).toMatchObject({ reason: "deadline" })
      }),
    RUNS
  )

  it.effect.prop(
    "with a Retry-After hint <= max, every delay is in [hint, hint · (1 + spread)]",
    {
      options: policyOptions,
      values: randomDraws,
      max: fc.integer({ min: 0, max: 60_000 }),
      ratio: unit,
      spread: fc.double({ min: 0, max: 1, noNaN: true }),
      whenAboveMax: fc.constantFrom("fail" as const, "clamp" as const, "ignore" as const)
    },
    ({ max, options, ratio, spread, values, whenAboveMax }) =>
      Effect.gen(function*() {
        const hint = Math.floor(ratio * max)
        const policy = RetryPolicy.make({ ...options, retryAfter: { max, spread, whenAboveMax } })
        const a = track((n) => Effect.fail(new Busy({ n, retryAfter: hint })))
        const { events, onEvent } = collectEvents()
        yield* runClocked(Retry.retry(a.effect, policy, { onEvent }).pipe(Effect.withRandom(draws(values))), "1 day")
        expect(a.times.length).toBe(options.maxAttempts)
        const delays = retryingDelays(events)
        expect(delays.length).toBe(options.maxAttempts - 1)
        for (const delay of delays) {
          expect(delay).toBeGreaterThanOrEqual(hint - EPSILON)
          expect(delay).toBeLessThanOrEqual(hint * (1 + spread) + EPSILON)
        }
      }),
    RUNS
  )

  it.effect.prop(
    "Effect.retry(RetryPolicy.toSchedule(policy)) and Retry.retry(policy) attempt at the same times",
    { options: policyOptions, values: randomDraws },
    ({ options, values }) => bothRunnersAttemptAtTheSameTimes(options, values),
    RUNS
  )

  it.effect("both runners attempt at the same times with delays of a few nanoseconds (CI's seed 890067271)", () =>
    bothRunnersAttemptAtTheSameTimes(
      { maxAttempts: 4, baseDelay: 1272, maxDelay: 1, factor: 3.783807845658508, jitter: { min: 0, max: 2.9999999999999822 } },
      [0, 0, 8.223201200169555e-11, 0]
    ))

  it.effect.prop(
    "with hints, deadlines and failures that are not retryable, both runners attempt at the same times and draw the same numbers",
    {
      options: policyOptions,
      values: randomDraws,
      maxElapsed: fc.option(fc.integer({ min: 0, max: 15_000 }), { nil: undefined }),
      retryAfter: fc.oneof(
        fc.constant(false as const),
        fc.record({
          max: fc.integer({ min: 0, max: 10_000 }),
          spread: fc.double({ min: 0, max: 1, noNaN: true }),
          whenAboveMax: fc.constantFrom("fail" as const, "clamp" as const, "ignore" as const)
        })
      ),
      // per attempt: a hint (or none), and whether the failure may be retried
      failures: fc.array(
        fc.record({
          hint: fc.option(fc.integer({ min: 0, max: 12_000 }), { nil: undefined }),
          retryable: fc.boolean()
        }),
        { minLength: 1, maxLength: 6 }
      ).map((failures) => failures.map((f, i) => ({ ...f, retryable: f.retryable || i < 2 })))
    },
    ({ failures, maxElapsed, options, retryAfter, values }) =>
      Effect.gen(function*() {
        const policy = RetryPolicy.make({ ...options, maxElapsed, retryAfter })
        const failure = (n: number) => {
          const f = failures[(n - 1) % failures.length]!
          return f.retryable ? new Busy({ n, ...(f.hint === undefined ? {} : { retryAfter: f.hint }) }) : new Fatal({ reason: "no" })
        }
        const viaSchedule = track((n) => Effect.fail(failure(n)))
        const scheduleRandom = counting(values)
        yield* runClocked(
          Effect.retry(viaSchedule.effect, RetryPolicy.toSchedule(policy)).pipe(Effect.withRandom(scheduleRandom.random)),
          "1 day"
        )
        const viaRetry = track((n) => Effect.fail(failure(n)))
        const retryRandom = counting(values)
        yield* runClocked(Retry.retry(viaRetry.effect, policy).pipe(Effect.withRandom(retryRandom.random)), "1 day")
        const expected = relative(viaSchedule.times)
        const actual = relative(viaRetry.times)
        expectSameTimes(actual, expected)
        expect(retryRandom.count()).toBe(scheduleRandom.count())
      }),
    RUNS
  )

  it.effect.prop(
    "a step draws only what it uses: none when it stops at once, one for jitter, one for an honoured hint",
    {
      options: policyOptions,
      values: randomDraws,
      hint: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
      retryable: fc.boolean()
    },
    ({ hint, options, retryable, values }) =>
      Effect.gen(function*() {
        const policy = RetryPolicy.make({ ...options, maxAttempts: 2, retryAfter: { max: 1000, spread: 0.5 } })
        const a = track((n) =>
          Effect.fail(
            retryable ? new Busy({ n, ...(hint === undefined ? {} : { retryAfter: hint }) }) : new Fatal({ reason: "no" })
          )
        )
        const random = counting(values)
        yield* runClocked(Retry.retry(a.effect, policy).pipe(Effect.withRandom(random.random)), "1 day")
        const perRetry = (options.jitter === "none" ? 0 : 1) + (hint === undefined ? 0 : 1)
        // attempt 1 fails (a retry if retryable), attempt 2 is the last: its step stops without drawing
        expect(random.count()).toBe(retryable ? perRetry : 0)
      }),
    RUNS
  )
})

/** A fixed Random (cycling `values`) that counts the numbers drawn. */
const counting = (values: ReadonlyArray<number>) => {
  let drawn = 0
  const fixed = draws(values)
  const random: Random.Random = {
    [Random.RandomTypeId]: Random.RandomTypeId,
    next: Effect.zipLeft(fixed.next, Effect.sync(() => drawn++)),
    nextBoolean: fixed.nextBoolean,
    nextInt: fixed.nextInt,
    nextRange: (min, max) => fixed.nextRange(min, max),
    nextIntBetween: (min, max) => fixed.nextIntBetween(min, max),
    shuffle: (elements) => fixed.shuffle(elements)
  }
  return { random, count: () => drawn }
}
