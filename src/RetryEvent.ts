/**
 * What happens while a call is retried, as a tagged union of events:
 * `Retrying` before each backoff sleep, `Succeeded` when a call that needed a
 * retry succeeds (so a UI knows to clear its status line), and `GaveUp` when a
 * call fails for good. Events reach `onEvent` callbacks and the
 * `RetryObserver` service.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Option from "effect/Option"
import * as internal from "./internal/format.js"

/**
 * Why a call stopped retrying. `"schedule-done"` is a Schedule given to
 * `Retry.retry` that ended (a policy gives the more specific reasons).
 * `"interrupted"` and `"defect"` close the events of a call that was
 * interrupted, or died, after it began retrying.
 * `"body-not-replayable"`: an HTTP request whose body could not be sent again
 * byte for byte (a one-shot stream) met a retryable failure on its only
 * attempt.
 *
 * @example
 * ```ts
 * import type { RetryEvent } from "effect-retry"
 *
 * const reason: RetryEvent.GiveUpReason = "exhausted"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type GiveUpReason =
  | "exhausted"
  | "not-retryable"
  | "retry-after-too-long"
  | "deadline"
  | "budget"
  | "schedule-done"
  | "interrupted"
  | "defect"
  | "body-not-replayable"

/**
 * Request details that HTTP retries add to their events. The URL has no query
 * string, so no token in it reaches a log.
 *
 * @example
 * ```ts
 * import type { RetryEvent } from "effect-retry"
 *
 * const info: RetryEvent.HttpInfo = { method: "GET", url: "https://api.example.com/v1/items", status: 503 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpInfo {
  readonly method: string
  readonly url: string
  readonly status?: number | undefined
}

/**
 * Where a retry's delay came from: the policy's backoff, a Retry-After hint
 * of the failure (a header, or an error's `retryAfter`), a Schedule given
 * to `Retry.retry` (which decides the delay itself), or a cool-down that
 * another call received (`RetryCooldown`): the call waits until it ends.
 *
 * @example
 * ```ts
 * import type { RetryEvent } from "effect-retry"
 *
 * const source: RetryEvent.DelaySource = "retry-after"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type DelaySource = "backoff" | "retry-after" | "schedule" | "cooldown"

/**
 * An attempt failed and another will start after `delay`. `attempt` is the
 * 1-based number of the attempt that just failed. `maxAttempts` is the
 * policy's; under a Schedule, which has no fixed count, it is `Infinity`.
 * `attempt` is 0 (and `delayFrom` `"cooldown"`) when a first attempt waits for
 * a cool-down that another call received, before anything failed.
 *
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * const event: RetryEvent.Retrying = RetryEvent.Retrying({
 *   attempt: 1, maxAttempts: 3, delay: Duration.millis(500), error: "boom", name: Option.none()
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Retrying {
  readonly _tag: "Retrying"
  readonly attempt: number
  readonly maxAttempts: number
  readonly delay: Duration.Duration
  /** Where the delay came from; set on every event `Retry.retry` and `withRetry` report. */
  readonly delayFrom?: DelaySource | undefined
  readonly error: unknown
  readonly name: Option.Option<string>
  readonly http?: HttpInfo | undefined
}

/**
 * A call succeeded after `attempts` attempts (at least 2: a call that succeeds
 * at once reports nothing, unless it first waited for a cool-down: then 1).
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * const event: RetryEvent.Succeeded = RetryEvent.Succeeded({ attempts: 2, name: Option.none() })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Succeeded {
  readonly _tag: "Succeeded"
  readonly attempts: number
  readonly name: Option.Option<string>
  readonly http?: HttpInfo | undefined
}

/**
 * A call failed for good after `attempts` attempts with `error`, for `reason`.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * const event: RetryEvent.GaveUp = RetryEvent.GaveUp({
 *   attempts: 3, error: "boom", reason: "exhausted", name: Option.none()
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface GaveUp {
  readonly _tag: "GaveUp"
  readonly attempts: number
  readonly error: unknown
  readonly reason: GiveUpReason
  readonly name: Option.Option<string>
  readonly http?: HttpInfo | undefined
}

/**
 * Any retry event.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * const onEvent = (event: RetryEvent.RetryEvent) => Effect.log(RetryEvent.format(event))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RetryEvent = Retrying | Succeeded | GaveUp

const constructors = Data.taggedEnum<RetryEvent>()

/**
 * Builds a `Retrying` event.
 *
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * RetryEvent.Retrying({ attempt: 1, maxAttempts: 3, delay: Duration.seconds(1), error: "x", name: Option.none() })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Retrying = constructors.Retrying

/**
 * Builds a `Succeeded` event.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * RetryEvent.Succeeded({ attempts: 3, name: Option.some("payments") })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Succeeded = constructors.Succeeded

/**
 * Builds a `GaveUp` event.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * RetryEvent.GaveUp({ attempts: 1, error: "bad request", reason: "not-retryable", name: Option.none() })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const GaveUp = constructors.GaveUp

/**
 * Tells events apart by tag: `RetryEvent.$is("Retrying")(event)`.
 *
 * @example
 * ```ts
 * import type { RetryEvent as Event } from "effect-retry"
 * import { RetryEvent } from "effect-retry"
 *
 * const retrying = (events: ReadonlyArray<Event.RetryEvent>) => events.filter(RetryEvent.$is("Retrying"))
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const $is = constructors.$is

/**
 * Pattern-matches an event by tag.
 *
 * @example
 * ```ts
 * import type { RetryEvent as Event } from "effect-retry"
 * import { RetryEvent } from "effect-retry"
 *
 * const label = (event: Event.RetryEvent) =>
 *   RetryEvent.$match(event, {
 *     Retrying: (e) => `retry ${e.attempt}`,
 *     Succeeded: () => "ok",
 *     GaveUp: (e) => e.reason
 *   })
 * ```
 *
 * @since 0.1.0
 * @category pattern matching
 */
export const $match = constructors.$match

/**
 * Renders a delay for people: under one second in whole milliseconds
 * ("500ms"), otherwise in seconds with at most one decimal ("1.2s", "8s").
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * RetryEvent.formatDelay(Duration.millis(1250)) // "1.3s"
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatDelay: (delay: Duration.DurationInput) => string = internal.formatDelay

/**
 * The attempt a `Retrying` event leads to, as "attempt 2/3", or "attempt 2"
 * under a Schedule, which has no attempt count (`maxAttempts` is `Infinity`).
 *
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * RetryEvent.formatAttempt(RetryEvent.Retrying({
 *   attempt: 1, maxAttempts: Infinity, delay: Duration.millis(200), error: "x", name: Option.none()
 * })) // "attempt 2"
 * ```
 *
 * @since 0.2.0
 * @category formatting
 */
export const formatAttempt: (event: Retrying) => string = internal.formatAttempt

/**
 * Renders an event as one line for a status bar or a log:
 * `retrying in 500ms (attempt 2/3)` (the attempt about to start; "attempt 2"
 * under a Schedule, which has no fixed count),
 * `succeeded after 2 attempts`, `gave up after 3 attempts (exhausted)`; a wait
 * for a cool-down another call received reads
 * `waiting 2s for a cool-down another call received (attempt 2/3)`.
 *
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryEvent } from "effect-retry"
 *
 * RetryEvent.format(RetryEvent.Retrying({
 *   attempt: 1, maxAttempts: 3, delay: Duration.millis(1200), error: "x", name: Option.none()
 * })) // "retrying in 1.2s (attempt 2/3)"
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const format: (event: RetryEvent) => string = internal.format
