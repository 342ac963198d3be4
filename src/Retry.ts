/**
 * Runs an effect under a retry policy, or under any Schedule whose input is
 * the failure, reporting what happens.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type { NoInfer } from "effect/Types"
import * as internal from "./internal/retry.js"
import type * as RetryBudget from "./RetryBudget.js"
import type { GiveUpReason, RetryEvent } from "./RetryEvent.js"
import type { RetryPolicy } from "./RetryPolicy.js"

/**
 * Options of `retry` and `retryOrElse`.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Retry, RetryEvent } from "effect-retry"
 *
 * const options: Retry.Options<{ readonly status: number }> = {
 *   while: (error) => error.status >= 500,
 *   onEvent: (event) => Console.log(RetryEvent.format(event))
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E> {
  /**
   * Decides which failures are retried. With a policy it replaces
   * `Retryable.isRetryable`; with a Schedule (which by default decides alone,
   * as under `Effect.retry`) it is checked before the schedule is stepped.
   */
  readonly while?: ((error: E) => boolean) | undefined
  /** Called with each event of this call, in order. */
  readonly onEvent?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
  /** A budget to draw on instead of the `RetryBudget` service in the context. */
  readonly budget?: RetryBudget.Service | undefined
  /** The name events, logs and metrics carry under a Schedule (a policy carries its own `name`). */
  readonly name?: string | undefined
  /**
   * With a `RetryCooldown` in the context: the dependency's cool-down `key`.
   * Under a policy, a failure's Retry-After hint is recorded for it (at most
   * the policy's `retryAfter.max`, and not at all when the policy ignores a
   * hint above it); under a Schedule, which decides every delay of its own
   * call, none is. Retries wait until a running cool-down ends; with
   * `firstAttempts: true` the first attempt waits too. A policy's
   * `maxElapsed` bounds that wait and counts it: a retry that would wait past
   * it gives up, a first attempt that would is made at once. A Schedule's own
   * time limits cannot be seen from outside it and do not.
   */
  readonly cooldown?: { readonly key: string; readonly firstAttempts?: boolean | undefined } | undefined
}

/**
 * Retries an effect's typed failures under a policy, or under any Schedule
 * whose input is the failure (for example a policy's `toSchedule` composed
 * with Effect's own combinators). Defects and interruption are never retried;
 * interrupting the fiber during a backoff sleep ends it at once. When it
 * stops, it fails with the last error unchanged. Each retry is logged at
 * Warning level, counted in `RetryMetrics`, added to the current span and
 * reported to `onEvent` and to the `RetryObserver` in scope, with the delay
 * actually slept. When a `RetryBudget` is in scope (or passed as `budget`),
 * each retry draws on it and a refused retry ends the call with reason
 * `"budget"`. A Schedule that ends gives the reason `"schedule-done"`.
 * Inside the effect, `Schedule.CurrentIterationMetadata` reads as under
 * `Effect.retry` (`recurrence` 0, 1, 2...). A policy or schedule that is
 * neither, or an unknown option, throws `InvalidRetryPolicy` when called.
 *
 * The retry machinery (a schedule's state included) is built only once an
 * attempt has failed: on the success path it costs little more than the
 * effect itself.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { Retry, RetryPolicy, Retryable } from "effect-retry"
 *
 * class Unavailable extends Retryable.TaggedError("Unavailable")<{}> {}
 * class Invalid extends Retryable.PermanentError("Invalid")<{}> {}
 *
 * const call: Effect.Effect<string, Unavailable | Invalid> = Effect.fail(new Unavailable())
 *
 * const program = call.pipe(Retry.retry(RetryPolicy.make({ maxAttempts: 4 })))
 * const onlyUnavailable = call.pipe(Retry.retry(RetryPolicy.default, { while: (e) => e._tag === "Unavailable" }))
 * const same = Retry.retry(call, RetryPolicy.default, { while: (e) => e._tag === "Unavailable" })
 * const composed = call.pipe(
 *   Retry.retry(RetryPolicy.toSchedule(RetryPolicy.default).pipe(Schedule.intersect(Schedule.spaced("1 second"))))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  <In = unknown, R2 = never>(
    policy: RetryPolicy | Schedule.Schedule<unknown, In, R2>,
    options?: Options<never> & { readonly while?: undefined }
  ): <A, E extends In, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R | R2>
  <E, R2 = never>(
    policy: RetryPolicy | Schedule.Schedule<unknown, NoInfer<E>, R2>,
    options: Options<NoInfer<E>>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R | R2>
  <A, E, R, R2 = never>(
    self: Effect.Effect<A, E, R>,
    policy: RetryPolicy | Schedule.Schedule<unknown, NoInfer<E>, R2>,
    options?: Options<NoInfer<E>>
  ): Effect.Effect<A, E, R | R2>
} = internal.retry

/**
 * Like `retry`, but when it gives up it runs `orElse` with the last error and
 * the reason (`"exhausted"`, `"not-retryable"`, `"schedule-done"`, ...) instead
 * of failing. Interruption and defects are not handed to `orElse`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryPolicy, Retryable } from "effect-retry"
 *
 * class Unavailable extends Retryable.TaggedError("Unavailable")<{}> {}
 *
 * const call: Effect.Effect<string, Unavailable> = Effect.fail(new Unavailable())
 *
 * const program = call.pipe(
 *   Retry.retryOrElse(RetryPolicy.default, (error, reason) => Effect.succeed(`cached (${error._tag}, ${reason})`))
 * )
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const retryOrElse: {
  <E, A2, E2, R3, R2 = never>(
    policy: RetryPolicy | Schedule.Schedule<unknown, NoInfer<E>, R2>,
    orElse: (error: NoInfer<E>, reason: GiveUpReason) => Effect.Effect<A2, E2, R3>,
    options?: Options<NoInfer<E>>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A2, E2, R | R2 | R3>
  <A, E, R, A2, E2, R3, R2 = never>(
    self: Effect.Effect<A, E, R>,
    policy: RetryPolicy | Schedule.Schedule<unknown, NoInfer<E>, R2>,
    orElse: (error: NoInfer<E>, reason: GiveUpReason) => Effect.Effect<A2, E2, R3>,
    options?: Options<NoInfer<E>>
  ): Effect.Effect<A | A2, E2, R | R2 | R3>
} = internal.retryOrElse
