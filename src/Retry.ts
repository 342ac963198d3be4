/**
 * Runs an effect under a retry policy, reporting what happens.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import { runWithRetry } from "./internal/loop.js"
import * as Retryable from "./Retryable.js"
import type * as RetryBudget from "./RetryBudget.js"
import type { RetryEvent } from "./RetryEvent.js"
import type { RetryPolicy } from "./RetryPolicy.js"

/**
 * Options of `retry`.
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
  /** Decides which failures are retried; replaces `Retryable.isRetryable`. */
  readonly while?: ((error: E) => boolean) | undefined
  /** Called with each event of this call, in order. */
  readonly onEvent?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
  /** A budget to draw on instead of the `RetryBudget` service in the context. */
  readonly budget?: RetryBudget.Service | undefined
}

/**
 * Retries an effect's typed failures under a policy. Defects and interruption
 * are never retried; interrupting the fiber during a backoff sleep ends it at
 * once. When it stops, it fails with the last error unchanged. Each retry is
 * logged at Warning level, counted in `RetryMetrics`, added to the current span
 * and reported to `onEvent` and to the `RetryObserver` in scope. When a
 * `RetryBudget` is in scope (or passed as `budget`), each retry draws on it and
 * a refused retry ends the call with reason `"budget"`.
 *
 * The retry machinery is built only once an attempt has failed: on the success
 * path it costs little more than the effect itself.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryPolicy, Retryable } from "effect-retry"
 *
 * class Unavailable extends Retryable.TaggedError("Unavailable")<{}> {}
 *
 * const call = Effect.fail(new Unavailable())
 *
 * const program = call.pipe(Retry.retry(RetryPolicy.make({ maxAttempts: 4 })))
 * const same = Retry.retry(call, RetryPolicy.default, { while: (e) => e._tag === "Unavailable" })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  <E = unknown>(
    policy: RetryPolicy,
    options?: Options<E>
  ): <A, E2 extends E, R>(self: Effect.Effect<A, E2, R>) => Effect.Effect<A, E2, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: RetryPolicy, options?: Options<E>): Effect.Effect<A, E, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: RetryPolicy, options: Options<E> = {}): Effect.Effect<A, E, R> =>
    runWithRetry(() => self, policy, {
      isRetryable: options.while ?? Retryable.isRetryable,
      onEvent: options.onEvent,
      budget: options.budget
    })
)
