/**
 * The metrics every retry updates, tagged with the policy name (`policy`) when
 * the policy has one. Read them with `Metric.value`, or export them with
 * `@effect/opentelemetry`.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * Counts retries taken (one per backoff sleep).
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { RetryMetrics } from "effect-retry"
 *
 * const count = Metric.value(RetryMetrics.retries).pipe(Effect.map((state) => state.count))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries = Metric.counter("effect_retry_retries_total", {
  description: "Retries taken",
  incremental: true
})

/**
 * Counts calls that failed for good, tagged with `reason`.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { RetryMetrics } from "effect-retry"
 *
 * const exhausted = Metric.value(Metric.tagged(RetryMetrics.giveUps, "reason", "exhausted"))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const giveUps = Metric.counter("effect_retry_give_ups_total", {
  description: "Calls that stopped retrying and failed",
  incremental: true
})

/**
 * Counts calls that succeeded after at least one retry.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { RetryMetrics } from "effect-retry"
 *
 * const recovered = Metric.value(RetryMetrics.recoveries)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const recoveries = Metric.counter("effect_retry_recoveries_total", {
  description: "Calls that succeeded after retrying",
  incremental: true
})

/**
 * Records each backoff delay in milliseconds.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { RetryMetrics } from "effect-retry"
 *
 * const delays = Metric.value(RetryMetrics.delays)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const delays = Metric.histogram(
  "effect_retry_delay_ms",
  MetricBoundaries.exponential({ start: 10, factor: 2, count: 14 }),
  "Backoff delays in milliseconds"
)
