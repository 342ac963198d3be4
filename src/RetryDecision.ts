/**
 * The one decision every runner of a retry policy takes after a failed
 * attempt: retry after a delay (and where the delay came from) or stop (and
 * why). `Retry.retry`, `HttpRetry.withRetry` and `RetryPolicy.toSchedule` all
 * decide through it, and so can tools that explain or simulate a policy
 * without running it. The step is pure: random draws come in as numbers in
 * [0, 1), and `draws` tells how many a step takes, jitter first, then a
 * Retry-After hint's spread.
 *
 * @since 0.2.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/decision.js"
import type { RetryPolicy } from "./RetryPolicy.js"
import type { Jitter, WhenAboveMax } from "./RetrySchedule.js"

/**
 * A policy's numbers in milliseconds, as the decision reads them.
 *
 * @example
 * ```ts
 * import { RetryDecision } from "effect-retry"
 *
 * const plan: RetryDecision.Plan = {
 *   maxAttempts: 4,
 *   baseMillis: 100,
 *   factor: 2,
 *   jitter: "full",
 *   capMillis: 2000,
 *   maxElapsedMillis: undefined,
 *   hints: { maxMillis: 60_000, whenAboveMax: "fail", spread: 0.1 }
 * }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Plan {
  readonly maxAttempts: number
  readonly baseMillis: number
  readonly factor: number
  readonly jitter: Jitter
  readonly capMillis: number
  /** The total budget from the start of the first attempt; `undefined` for none. */
  readonly maxElapsedMillis: number | undefined
  /** The Retry-After rules; `undefined` when hints are ignored. */
  readonly hints: HintRules | undefined
}

/**
 * Retry-After rules in milliseconds.
 *
 * @example
 * ```ts
 * import type { RetryDecision } from "effect-retry"
 *
 * const rules: RetryDecision.HintRules = { maxMillis: 30_000, whenAboveMax: "clamp", spread: 0 }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface HintRules {
  readonly maxMillis: number
  readonly whenAboveMax: WhenAboveMax
  readonly spread: number
}

/**
 * What is known once an attempt has failed.
 *
 * @example
 * ```ts
 * import type { RetryDecision } from "effect-retry"
 *
 * const input: RetryDecision.Input = { attempt: 1, retryable: true, previousMillis: 500, elapsedMillis: 12 }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Input {
  /** The 1-based number of the attempt that failed. */
  readonly attempt: number
  /** Whether the failure may be retried at all. */
  readonly retryable: boolean
  /** The failure's Retry-After hint in milliseconds, if it has one. */
  readonly hintMillis?: number | undefined
  /** The backoff of the previous retry (the base delay before the first); only decorrelated jitter reads it. */
  readonly previousMillis: number
  /** Time since the total budget began (the start of the first attempt). */
  readonly elapsedMillis: number
}

/**
 * Retry after `delayMillis`. `backoffMillis` is the jittered, capped backoff
 * (the delay unless a Retry-After hint replaced it): pass it as the next
 * step's `previousMillis`.
 *
 * @example
 * ```ts
 * import type { RetryDecision } from "effect-retry"
 *
 * const retry: RetryDecision.Retry = { _tag: "Retry", delayMillis: 500, backoffMillis: 500, delayFrom: "backoff" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Retry {
  readonly _tag: "Retry"
  readonly delayMillis: number
  readonly backoffMillis: number
  readonly delayFrom: "backoff" | "retry-after"
}

/**
 * Stop retrying, for `reason`.
 *
 * @example
 * ```ts
 * import type { RetryDecision } from "effect-retry"
 *
 * const stop: RetryDecision.Stop = { _tag: "Stop", reason: "exhausted" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Stop {
  readonly _tag: "Stop"
  readonly reason: "not-retryable" | "exhausted" | "retry-after-too-long" | "deadline"
}

/**
 * The outcome of one step.
 *
 * @example
 * ```ts
 * import type { RetryDecision } from "effect-retry"
 *
 * const describe = (decision: RetryDecision.Decision): string =>
 *   decision._tag === "Retry" ? `retry in ${decision.delayMillis} ms` : `stop: ${decision.reason}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Decision = Retry | Stop

/**
 * The plan of a policy (computed once per policy and kept).
 *
 * @example
 * ```ts
 * import { RetryDecision, RetryPolicy } from "effect-retry"
 *
 * const plan = RetryDecision.plan(RetryPolicy.default)
 * plan.baseMillis // 500
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const plan: (policy: RetryPolicy) => Plan = internal.planOf

/**
 * How many random draws the step for `input` takes: none when it stops at
 * once (not retryable, or no attempts left), one for jitter unless it is
 * `"none"`, and one for a Retry-After hint's spread when the hint is honoured.
 *
 * @example
 * ```ts
 * import { RetryDecision, RetryPolicy } from "effect-retry"
 *
 * const plan = RetryDecision.plan(RetryPolicy.default)
 * RetryDecision.draws(plan, { attempt: 1, retryable: true, previousMillis: 500, elapsedMillis: 0 }) // 1
 * ```
 *
 * @since 0.2.0
 * @category decisions
 */
export const draws: (plan: Plan, input: Input) => 0 | 1 | 2 = internal.draws

/**
 * The decision after a failed attempt, given the step's random draws (as
 * many as `draws` says, in order: jitter, then the hint's spread). Checks run
 * in this order: retryable, attempts left, backoff (exponential, jitter, cap),
 * the Retry-After hint, the total budget.
 *
 * @example
 * ```ts
 * import { RetryDecision, RetryPolicy } from "effect-retry"
 *
 * const plan = RetryDecision.plan(RetryPolicy.make({ jitter: "full" }))
 * const input = { attempt: 2, retryable: true, previousMillis: 500, elapsedMillis: 300 }
 * RetryDecision.decide(plan, input, [0.5]) // { _tag: "Retry", delayMillis: 500, backoffMillis: 500, delayFrom: "backoff" }
 * ```
 *
 * @since 0.2.0
 * @category decisions
 */
export const decide: (plan: Plan, input: Input, draws: ReadonlyArray<number>) => Decision = internal.decide

/**
 * `decide`, drawing its numbers from Effect's `Random` service.
 *
 * @example
 * ```ts
 * import { Effect, Random } from "effect"
 * import { RetryDecision, RetryPolicy } from "effect-retry"
 *
 * const plan = RetryDecision.plan(RetryPolicy.default)
 * const decision = RetryDecision.step(plan, { attempt: 1, retryable: true, previousMillis: 500, elapsedMillis: 0 }).pipe(
 *   Effect.withRandom(Random.make("seed"))
 * )
 * ```
 *
 * @since 0.2.0
 * @category decisions
 */
export const step: (plan: Plan, input: Input) => Effect.Effect<Decision> = internal.step

/**
 * The backoff before retry number `retry` (1-based) for a jitter draw:
 * `baseMillis · factor^(retry - 1)`, jittered, capped at `capMillis`.
 * `previousMillis` is the backoff before (only decorrelated jitter reads it).
 *
 * @example
 * ```ts
 * import { RetryDecision } from "effect-retry"
 *
 * const plan = { baseMillis: 100, factor: 2, jitter: "equal", capMillis: 1000 } as const
 * RetryDecision.backoff(plan, 3, 200, 0) // 200: 400 / 2 + 0
 * ```
 *
 * @since 0.2.0
 * @category decisions
 */
export const backoff: (
  plan: Pick<Plan, "baseMillis" | "factor" | "jitter" | "capMillis">,
  retry: number,
  previousMillis: number,
  draw: number
) => number = internal.backoffMillis

/**
 * `backoff`, drawing its jitter from Effect's `Random` (nothing is drawn for
 * jitter `"none"`).
 *
 * @example
 * ```ts
 * import { Effect, Random } from "effect"
 * import { RetryDecision } from "effect-retry"
 *
 * const plan = { baseMillis: 100, factor: 2, jitter: "full", capMillis: 1000 } as const
 * const delay = RetryDecision.drawBackoff(plan, 2, 100).pipe(Effect.withRandom(Random.make(7)))
 * ```
 *
 * @since 0.2.0
 * @category decisions
 */
export const drawBackoff: (
  plan: Pick<Plan, "baseMillis" | "factor" | "jitter" | "capMillis">,
  retry: number,
  previousMillis: number
) => Effect.Effect<number> = internal.drawBackoff
