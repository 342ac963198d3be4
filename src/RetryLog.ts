/**
 * The switch for the library's own log lines. `Retry.retry` and
 * `HttpRetry.withRetry` log each retry and each give-up at Warning level
 * (see docs/observability.md). A program that shows retries itself (a status
 * line, its own log line from `onEvent`) turns those lines down or off here,
 * for one effect (`RetryLog.withLevel`, `RetryLog.off`) or for everything a
 * layer is provided to (`RetryLog.layer`, `RetryLog.layerOff`), without
 * touching the minimum log level of the rest of the program.
 *
 * The setting lives in a `FiberRef`, so it applies to the scope it is set in
 * and to the fibers forked from it. Events, metrics, span events and the
 * `RetryObserver` are not affected.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as FiberRef from "effect/FiberRef"
import type * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as internal from "./internal/retryLog.js"

/**
 * The level the library writes its Warning log lines at in the current fiber
 * (`LogLevel.Warning` unless set). `LogLevel.None` means off: no log line of
 * the library at all, the Debug ones included. Read it with `FiberRef.get`;
 * set it with `withLevel` or `layer`.
 *
 * @example
 * ```ts
 * import { Effect, FiberRef } from "effect"
 * import { RetryLog } from "effect-retry"
 *
 * const level = FiberRef.get(RetryLog.currentLevel)
 * ```
 *
 * @since 0.1.0
 * @category fiber refs
 */
export const currentLevel: FiberRef.FiberRef<LogLevel.LogLevel> = internal.currentLevel

/**
 * Runs an effect with the library's Warning log lines written at `level`
 * instead (`LogLevel.Debug` hides them under Effect's default minimum level,
 * Info; `LogLevel.None` turns the library's log lines off).
 *
 * @example
 * ```ts
 * import { Effect, LogLevel } from "effect"
 * import { Retry, RetryLog, RetryPolicy } from "effect-retry"
 *
 * declare const fetchStock: Effect.Effect<number, { readonly isRetryable: boolean }>
 *
 * // Retries are logged at Debug: hidden unless the program asks for Debug logs.
 * const quiet = fetchStock.pipe(Retry.retry(RetryPolicy.default), RetryLog.withLevel(LogLevel.Debug))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withLevel: {
  (level: LogLevel.LogLevel): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, level: LogLevel.LogLevel): Effect.Effect<A, E, R>
} = internal.withLevel

/**
 * Runs an effect with the library's log lines off (`withLevel(LogLevel.None)`).
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Retry, RetryEvent, RetryLog, RetryPolicy } from "effect-retry"
 *
 * declare const fetchStock: Effect.Effect<number, { readonly isRetryable: boolean }>
 *
 * // The program prints each retry itself; the library's own line would repeat it.
 * const program = fetchStock.pipe(
 *   Retry.retry(RetryPolicy.default, { onEvent: (event) => Console.log(RetryEvent.format(event)) }),
 *   RetryLog.off
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const off: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = internal.off

/**
 * A layer that sets the level of the library's Warning log lines for every
 * effect it is provided to (`LogLevel.None`: off).
 *
 * @example
 * ```ts
 * import { Effect, LogLevel } from "effect"
 * import { Retry, RetryLog, RetryPolicy } from "effect-retry"
 *
 * declare const sync: Effect.Effect<void, { readonly isRetryable: boolean }>
 *
 * const main = sync.pipe(Retry.retry(RetryPolicy.default), Effect.provide(RetryLog.layer(LogLevel.Debug)))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (level: LogLevel.LogLevel) => Layer.Layer<never> = internal.layer

/**
 * A layer that turns the library's log lines off for every effect it is
 * provided to (`layer(LogLevel.None)`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryLog, RetryPolicy } from "effect-retry"
 *
 * declare const sync: Effect.Effect<void, { readonly isRetryable: boolean }>
 *
 * const main = sync.pipe(Retry.retry(RetryPolicy.default), Effect.provide(RetryLog.layerOff))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOff: Layer.Layer<never> = internal.layerOff
