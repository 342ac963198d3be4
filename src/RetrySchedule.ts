/**
 * The building blocks of a retry policy, as Effect `Schedule`s. Each is a
 * constructor or a pipeable (and dual) `Schedule -> Schedule` function, so they
 * compose with each other and with any Schedule of Effect's. The schedules take
 * the failure as their input, which is what `Effect.retry` feeds them.
 *
 * `RetryPolicy.toSchedule` is exactly:
 * `backoff → capped → honorRetryAfter → whileRetryable → limited → deadline`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as Intervals from "effect/ScheduleIntervals"
import * as Decision from "./internal/decision.js"
import * as Delay from "./internal/delay.js"
import * as Defaults from "./internal/defaults.js"
import * as PolicyOptions from "./internal/policyOptions.js"
import * as Validate from "./internal/validate.js"
import * as Retryable from "./Retryable.js"

/**
 * How a computed delay is randomised: a multiplier range `{ min, max }`,
 * `"none"`, `"full"` (uniform in [0, d]), `"equal"` (d/2 + uniform [0, d/2]) or
 * `"decorrelated"` (min(maxDelay, uniform [base, 3 · previous])).
 *
 * @example
 * ```ts
 * import type { RetrySchedule } from "effect-retry"
 *
 * const jitter: RetrySchedule.Jitter = { min: 0.5, max: 1.5 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Jitter =
  | "none"
  | "full"
  | "equal"
  | "decorrelated"
  | { readonly min: number; readonly max: number }

/**
 * What to do with a Retry-After hint above the allowed maximum: `"fail"` stops
 * retrying, `"clamp"` waits the maximum, `"ignore"` uses the computed backoff.
 *
 * @example
 * ```ts
 * import type { RetrySchedule } from "effect-retry"
 *
 * const mode: RetrySchedule.WhenAboveMax = "clamp"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type WhenAboveMax = "fail" | "clamp" | "ignore"

/**
 * Options of `backoff`.
 *
 * @example
 * ```ts
 * import type { RetrySchedule } from "effect-retry"
 *
 * const options: RetrySchedule.BackoffOptions = { baseDelay: "100 millis", factor: 3, jitter: "full" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface BackoffOptions {
  /** The delay before the first retry, before jitter. Default 500 millis. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** Growth per retry, at least 1. Default 2. */
  readonly factor?: number | undefined
  /** Default `{ min: 0.75, max: 1.25 }`. */
  readonly jitter?: Jitter | undefined
  /** Caps every delay (after jitter), and so decorrelated jitter's memory of the previous delay. Default none. */
  readonly maxDelay?: Duration.DurationInput | undefined
}

/**
 * Options of `honorRetryAfter`.
 *
 * @example
 * ```ts
 * import type { RetrySchedule } from "effect-retry"
 *
 * const options: RetrySchedule.RetryAfterOptions = { max: "30 seconds", whenAboveMax: "clamp", spread: 0 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryAfterOptions {
  /** The longest hint honoured. Default 60 seconds. */
  readonly max?: Duration.DurationInput | undefined
  /** Default `"fail"`. */
  readonly whenAboveMax?: WhenAboveMax | undefined
  /** A random extra of up to `spread · hint`. Default 0.1. */
  readonly spread?: number | undefined
}

type Step<S, Out> = readonly [S, Out, ScheduleDecision.ScheduleDecision]

/**
 * A dual `Schedule -> Schedule` combinator whose argument is checked as soon
 * as it is given: `limited(0)` throws when called, not when applied.
 */
const checkedDual = <A, B>(
  check: (argument: A) => B,
  body: (self: Schedule.Schedule<any, any, any>, checked: B) => Schedule.Schedule<any, any, any>
): any =>
  function(...args: Array<any>) {
    if (Schedule.isSchedule(args[0])) return body(args[0] as Schedule.Schedule<any, any, any>, check(args[1]))
    const checked = check(args[0])
    return (self: Schedule.Schedule<any, any, any>) => body(self, checked)
  }

const toMillis = (duration: Duration.Duration): number => Duration.toMillis(duration)

const continueAfter = (now: number, delayMillis: number): ScheduleDecision.ScheduleDecision =>
  ScheduleDecision.continueWith(ScheduleInterval.after(now + delayMillis))

const delayOf = (now: number, decision: ScheduleDecision.Continue): number =>
  Math.max(0, Intervals.start(decision.intervals) - now)

/**
 * Exponential backoff with jitter: the delay before retry n is
 * `baseDelay · factor^(n-1)`, then jittered through Effect's `Random`. The
 * output is the delay. It never stops by itself: pipe it through `limited`,
 * `deadline` or `whileRetryable`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetrySchedule } from "effect-retry"
 *
 * const schedule = RetrySchedule.backoff({ baseDelay: "100 millis", jitter: "full" }).pipe(
 *   RetrySchedule.capped("2 seconds"),
 *   RetrySchedule.limited(4)
 * )
 * const program = Effect.fail("boom").pipe(Effect.retry(schedule))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const backoff = (options: BackoffOptions = {}): Schedule.Schedule<Duration.Duration, unknown> => {
  Validate.knownKeys("", Validate.record("options", options), ["baseDelay", "factor", "jitter", "maxDelay"])
  const baseMillis = toMillis(Validate.duration("baseDelay", options.baseDelay ?? Defaults.baseDelay))
  const factor = Validate.numberAtLeast("factor", options.factor ?? Defaults.factor, 1)
  const jitter = PolicyOptions.orThrow("jitter", PolicyOptions.jitter, options.jitter ?? Defaults.jitter)
  const capMillis = options.maxDelay === undefined ? Infinity : toMillis(Validate.duration("maxDelay", options.maxDelay))
  const plan = { baseMillis, factor, jitter, capMillis }
  type State = { readonly retry: number; readonly previousMillis: number }
  return Schedule.makeWithState<State, unknown, Duration.Duration>(
    { retry: 0, previousMillis: baseMillis },
    (now, _input, state) => {
      const retry = state.retry + 1
      return Effect.map(
        Decision.drawBackoff(plan, retry, state.previousMillis),
        (millis): Step<State, Duration.Duration> => [
          { retry, previousMillis: millis },
          Duration.millis(millis),
          continueAfter(now, millis)
        ]
      )
    }
  )
}

/**
 * Caps every delay of a schedule at `max`.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { RetrySchedule } from "effect-retry"
 *
 * const schedule = Schedule.exponential("1 second").pipe(RetrySchedule.capped("10 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const capped: {
  (max: Duration.DurationInput): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, max: Duration.DurationInput): Schedule.Schedule<Out, In, R>
} = checkedDual(
  (max: unknown) => Validate.duration("maxDelay", max),
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, cap: Duration.Duration) =>
    Schedule.modifyDelay(self, (_, delay) => Duration.min(delay, cap))
)

/**
 * Limits a schedule to `maxAttempts` attempts in all, the first included, by
 * intersecting it with `Schedule.recurs(maxAttempts - 1)`. The output is kept.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { RetrySchedule } from "effect-retry"
 *
 * const threeAttempts = Schedule.spaced("1 second").pipe(RetrySchedule.limited(3))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const limited: {
  (maxAttempts: number): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, maxAttempts: number): Schedule.Schedule<Out, In, R>
} = checkedDual(
  (maxAttempts: unknown) => Validate.integerAtLeast("maxAttempts", maxAttempts, 1),
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, attempts: number) =>
    Schedule.zipLeft(self, Schedule.recurs(attempts - 1))
)

/**
 * Lets a failure's Retry-After hint (see `Retryable.retryAfter`) replace the
 * schedule's delay: never earlier than the hint, plus a random extra of up to
 * `spread · hint`. A hint of zero retries at once. Above `max`, `"fail"` stops
 * the schedule, `"clamp"` waits `max` and `"ignore"` keeps the schedule's delay.
 *
 * @example
 * ```ts
 * import { RetrySchedule } from "effect-retry"
 *
 * const schedule = RetrySchedule.backoff().pipe(
 *   RetrySchedule.honorRetryAfter({ max: "30 seconds", whenAboveMax: "clamp" }),
 *   RetrySchedule.limited(3)
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const honorRetryAfter: {
  (options?: RetryAfterOptions): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, options?: RetryAfterOptions): Schedule.Schedule<Out, In, R>
} = checkedDual(
  (options: unknown) => {
    const rules = PolicyOptions.orThrow("retryAfter", PolicyOptions.retryAfterRules, options ?? {})
    return { maxMillis: toMillis(rules.max), whenAboveMax: rules.whenAboveMax, spread: rules.spread }
  },
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, rules: Delay.HintRules) => {
    return Schedule.makeWithState(self.initial, (now, input: In, state) =>
      Effect.flatMap(self.step(now, input, state), (step) => {
        const [next, out, decision] = step
        if (ScheduleDecision.isDone(decision)) return Effect.succeed(step)
        const hint = Retryable.retryAfter(input)
        if (Option.isNone(hint)) return Effect.succeed(step)
        const hintMillis = toMillis(hint.value)
        const decide = (draw: number): Step<typeof state, Out> => {
          const outcome = Delay.hintDecision(rules, hintMillis, draw)
          switch (outcome._tag) {
            case "UseBackoff":
              return step
            case "TooLong":
              return [next, out, ScheduleDecision.done]
            case "Wait":
              return [next, out, continueAfter(now, outcome.millis)]
          }
        }
        return Delay.hintDraws(rules, hintMillis) ? Effect.map(Random.next, decide) : Effect.succeed(decide(0))
      }))
  }
)

/**
 * Stops a schedule at the first failure that is not retryable. The default test
 * is `Retryable.isRetryable`; pass another predicate to replace it.
 *
 * @example
 * ```ts
 * import { RetrySchedule } from "effect-retry"
 *
 * const schedule = RetrySchedule.backoff().pipe(
 *   RetrySchedule.whileRetryable((error: { readonly status: number }) => error.status >= 500),
 *   RetrySchedule.limited(3)
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const whileRetryable: {
  <E = unknown>(
    isRetryable?: (error: E) => boolean
  ): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In & E, R>
  <Out, In, R, E = unknown>(
    self: Schedule.Schedule<Out, In, R>,
    isRetryable?: (error: E) => boolean
  ): Schedule.Schedule<Out, In & E, R>
} = dual(
  (args) => Schedule.isSchedule(args[0]),
  <Out, In, R, E>(self: Schedule.Schedule<Out, In, R>, isRetryable: (error: E) => boolean = Retryable.isRetryable) =>
    Schedule.whileInput(self, isRetryable as (input: In & E) => boolean)
)

/**
 * A total time budget: a retry whose sleep would end more than `maxElapsed`
 * after the budget began is not taken, so the budget is never overshot. Used
 * with `Effect.retry`, the budget begins at the first failure (a Schedule does
 * not see the first attempt start); `Retry.retry` begins it at the start of the
 * first attempt.
 *
 * @example
 * ```ts
 * import { RetrySchedule } from "effect-retry"
 *
 * const schedule = RetrySchedule.backoff().pipe(RetrySchedule.deadline("5 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const deadline: {
  (maxElapsed: Duration.DurationInput): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, maxElapsed: Duration.DurationInput): Schedule.Schedule<Out, In, R>
} = checkedDual((maxElapsed: unknown) => toMillis(Validate.duration("maxElapsed", maxElapsed)), <Out, In, R>(
  self: Schedule.Schedule<Out, In, R>,
  budgetMillis: number
) => {
  type State = readonly [inner: typeof self.initial, startMillis: number | undefined]
  return Schedule.makeWithState<State, In, Out, R>([self.initial, undefined], (now, input, [inner, startedAt]) => {
    const start = startedAt ?? now
    return Effect.map(self.step(now, input, inner), ([next, out, decision]): Step<State, Out> => {
      const stop = ScheduleDecision.isDone(decision) ||
        Delay.overshoots(now - start, delayOf(now, decision), budgetMillis)
      return [[next, start], out, stop ? ScheduleDecision.done : decision]
    })
  })
})
