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
import type * as Duration from "effect/Duration"
import type * as Schedule from "effect/Schedule"
import * as internal from "./internal/schedules.js"

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
export const backoff: (options?: BackoffOptions) => Schedule.Schedule<Duration.Duration, unknown> = internal.backoff

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
} = internal.capped

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
} = internal.limited

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
} = internal.honorRetryAfter

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
} = internal.whileRetryable

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
} = internal.deadline
