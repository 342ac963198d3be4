/**
 * A service that receives every retry event inside its scope, so that a UI (a
 * terminal status line, a progress bar) can show what is happening without
 * threading callbacks through the program.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { RetryEvent } from "./RetryEvent.js"

/**
 * The observer service: `report` is called with each event, in order.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryObserver } from "effect-retry"
 *
 * const program = Effect.gen(function*() {
 *   const observer = yield* RetryObserver.RetryObserver
 *   return observer
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RetryObserver extends Context.Tag("effect-retry/RetryObserver")<
  RetryObserver,
  { readonly report: (event: RetryEvent) => Effect.Effect<void> }
>() {}

/**
 * A layer that sends every retry event in its scope to `report`.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Retry, RetryEvent, RetryObserver, RetryPolicy } from "effect-retry"
 *
 * const StatusLine = RetryObserver.layer((event) => Console.log(RetryEvent.format(event)))
 *
 * const program = Effect.fail({ isRetryable: true }).pipe(
 *   Retry.retry(RetryPolicy.default),
 *   Effect.provide(StatusLine)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (report: (event: RetryEvent) => Effect.Effect<void>): Layer.Layer<RetryObserver> =>
  Layer.succeed(RetryObserver, { report })
