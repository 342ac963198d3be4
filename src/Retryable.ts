/**
 * The retryability protocol. An error is retried when it says so: it has a
 * property `isRetryable` that is `true` (own or inherited, a getter works), or
 * it is Effect's `Cause.TimeoutException`. Anything else is not retried: what we
 * do not understand, we do not retry. An error may also carry `retryAfter`, a
 * `Duration` or duration input, that replaces the computed backoff.
 *
 * The protocol is structural, so it fits error classes this library did not
 * define. `TaggedError` and `PermanentError` declare new ones.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import type * as Option from "effect/Option"
import type * as Types from "effect/Types"
import * as internal from "./internal/retryable.js"

/**
 * The fields an error may carry to take part in the protocol.
 *
 * @example
 * ```ts
 * import type { Retryable } from "effect-retry"
 *
 * const busy: Retryable.Retryable = { isRetryable: true, retryAfter: "2 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Retryable {
  readonly isRetryable: boolean
  readonly retryAfter?: Duration.DurationInput | undefined
}

/**
 * Whether an error asks to be retried: `isRetryable === true`, or a
 * `Cause.TimeoutException`.
 *
 * @example
 * ```ts
 * import { Cause } from "effect"
 * import { Retryable } from "effect-retry"
 *
 * Retryable.isRetryable({ isRetryable: true }) // true
 * Retryable.isRetryable(new Cause.TimeoutException()) // true
 * Retryable.isRetryable(new Error("boom")) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable: (u: unknown) => boolean = internal.isRetryable

/**
 * The delay an error asks for before the next attempt, read from its
 * `retryAfter` property: a `Duration`, milliseconds, or a duration string.
 * Negative, NaN or malformed values give `None`.
 *
 * @example
 * ```ts
 * import { Retryable } from "effect-retry"
 *
 * Retryable.retryAfter({ isRetryable: true, retryAfter: "2 seconds" }) // Some(Duration(2s))
 * Retryable.retryAfter({ isRetryable: true }) // None
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const retryAfter: (u: unknown) => Option.Option<Duration.Duration> = internal.retryAfter

/**
 * The constructor type returned by `TaggedError` and `PermanentError`.
 *
 * @example
 * ```ts
 * import type { Retryable } from "effect-retry"
 *
 * type Ctor = Retryable.TaggedErrorConstructor<"Busy", true>
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type TaggedErrorConstructor<Tag extends string, R extends boolean> = new<A extends Record<string, any> = {}>(
  args: Types.VoidIfEmpty<{ readonly [P in keyof A as P extends "_tag" | "isRetryable" ? never : P]: A[P] }>
) => Cause.YieldableError & { readonly _tag: Tag; readonly isRetryable: R } & Readonly<A>

/**
 * Declares a tagged error class (built on `Data.TaggedError`) that is retried.
 * Give it a `retryAfter` field to let each instance ask for a delay.
 *
 * @example
 * ```ts
 * import type { Duration } from "effect"
 * import { Retryable } from "effect-retry"
 *
 * class RateLimited extends Retryable.TaggedError("RateLimited")<{
 *   readonly retryAfter?: Duration.DurationInput
 * }> {}
 *
 * Retryable.isRetryable(new RateLimited({ retryAfter: "1 second" })) // true
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const TaggedError: <Tag extends string>(tag: Tag) => TaggedErrorConstructor<Tag, true> = internal.TaggedError

/**
 * Declares a tagged error class (built on `Data.TaggedError`) that is never
 * retried, whatever policy is in use.
 *
 * @example
 * ```ts
 * import { Retryable } from "effect-retry"
 *
 * class InvalidInput extends Retryable.PermanentError("InvalidInput")<{ readonly field: string }> {}
 *
 * Retryable.isRetryable(new InvalidInput({ field: "email" })) // false
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const PermanentError: <Tag extends string>(tag: Tag) => TaggedErrorConstructor<Tag, false> =
  internal.PermanentError
