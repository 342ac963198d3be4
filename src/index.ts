/**
 * effect-retry: retry policies for Effect programs.
 *
 * @module effect-retry
 * @since 0.1.0
 */

/**
 * Runs an effect under a retry policy.
 *
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"

/**
 * The retryability protocol and retryable error classes.
 *
 * @since 0.1.0
 */
export * as Retryable from "./Retryable.js"

/**
 * Parsing of Retry-After and rate-limit reset headers.
 *
 * @since 0.1.0
 */
export * as RetryAfter from "./RetryAfter.js"

/**
 * Shared retry budgets: a token bucket and a ratio budget.
 *
 * @since 0.1.0
 */
export * as RetryBudget from "./RetryBudget.js"

/**
 * Shared cool-downs for Retry-After: every call to a key waits out a cool-down
 * that one call received.
 *
 * @since 0.1.0
 */
export * as RetryCooldown from "./RetryCooldown.js"

/**
 * Retry events and their formatting.
 *
 * @since 0.1.0
 */
export * as RetryEvent from "./RetryEvent.js"

/**
 * The switch for the library's own log lines: a level, or off, per scope.
 *
 * @since 0.1.0
 */
export * as RetryLog from "./RetryLog.js"

/**
 * Metrics updated by every retry.
 *
 * @since 0.1.0
 */
export * as RetryMetrics from "./RetryMetrics.js"

/**
 * The one decision after a failed attempt, as a pure step, for tools that
 * explain or simulate a policy.
 *
 * @since 0.2.0
 */
export * as RetryDecision from "./RetryDecision.js"

/**
 * A service that receives every retry event in its scope.
 *
 * @since 0.1.0
 */
export * as RetryObserver from "./RetryObserver.js"

/**
 * Retry policies: options, defaults, configuration, conversion to a Schedule.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * The Schedule combinators a policy is built from.
 *
 * @since 0.1.0
 */
export * as RetrySchedule from "./RetrySchedule.js"
