/**
 * Shared retry budgets. Retries multiply load exactly when a service is
 * weakest (three attempts at each of three layers is 27x); a budget caps the
 * retries that many calls may take together, the way AWS SDKs (retry quota),
 * gRPC (retry throttling), Finagle and Envoy (retry budgets) do. Provide one
 * per downstream service: every `Retry.retry` and `HttpRetry.withRetry` in its
 * scope draws on it. When the budget says no, the call fails with its last
 * error and a `GaveUp` event with reason `"budget"`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as internal from "./internal/budget.js"

/**
 * What a retry is drawn for: `"timeout"` after a timed-out attempt (which may
 * cost more), `"error"` after any other failure.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const kind: RetryBudget.RetryKind = "timeout"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RetryKind = "error" | "timeout"

/**
 * A snapshot of a budget, for dashboards and tests.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const snapshot: RetryBudget.Snapshot = { available: 495, capacity: 500 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  /** Retries (ratio) or tokens (token bucket) available now. */
  readonly available: number
  readonly capacity: number
}

/**
 * The budget service. Build one with `make`, `makeTokenBucket` or
 * `makeRatio`, or, for a budget shared by a fleet of processes, with
 * `RedisBudget` from `effect-retry/redis`. Every operation is atomic, so many
 * fibers can share one.
 *
 * The success path must stay cheap and must never wait, so what a first
 * attempt reports goes through two plain synchronous functions that only
 * record: `unsafeRequest` (a call starts its first attempt) and
 * `unsafeSucceeded` (its first attempt succeeded). `Retry.retry` and
 * `HttpRetry.withRetry` use only these two there, never the `request`
 * effect (which is for loops of your own); after retries they call the
 * `succeeded(spent)` effect. A budget leaves out the hook it has no use for,
 * and first attempts then skip it: a ratio budget counts requests and
 * ignores first-attempt successes, a token bucket the reverse. A budget held
 * elsewhere gathers them in the process and sends them in batches. Only `withdraw`, asked once per retry, may wait on a
 * store; it never fails: a store that cannot answer is the budget's own
 * business (see `RedisBudget`'s `onStoreError`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.makeTokenBucket()
 *   const granted = yield* budget.withdraw("error")
 *   return (yield* budget.snapshot).available
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** A call is starting its first attempt. */
  readonly request: Effect.Effect<void>
  /** Asks for one retry: `Some(tokens taken)` when it may be taken, `None` when the budget is spent. */
  readonly withdraw: (kind: RetryKind) => Effect.Effect<Option.Option<number>>
  /** A call succeeded; `spent` is what its retries withdrew. The retry loops call it after retries. */
  readonly succeeded: (spent: number) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<Snapshot>
  /**
   * Records that a call starts its first attempt at `now` (epoch ms); never
   * blocks. Absent when the budget does not count requests: the clock is then
   * not read before a first attempt.
   */
  readonly unsafeRequest?: ((now: number) => void) | undefined
  /**
   * Records that a call succeeded after its retries withdrew `spent` (0: at
   * the first attempt, which is where the retry loops call it); never blocks.
   * Absent when the budget ignores first-attempt successes: a first attempt
   * that succeeds then passes through untouched.
   */
  readonly unsafeSucceeded?: ((spent: number) => void) | undefined
}

/**
 * The synchronous rules of a budget, from which `make` builds a `Service`.
 * `now` is the current time in epoch milliseconds, read from Effect's Clock.
 * Leave out `request` or `succeeded` when the budget has no use for it: the
 * success path of every call then skips it.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import type { RetryBudget } from "effect-retry"
 *
 * // Ten retries in all; neither requests nor successes change that.
 * let left = 10
 * const tenRetries: RetryBudget.Rules = {
 *   withdraw: () => (left > 0 ? Option.some(left--) : Option.none()),
 *   snapshot: () => ({ available: left, capacity: 10 })
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Rules {
  /** A call starts its first attempt at `now`. */
  readonly request?: ((now: number) => void) | undefined
  readonly withdraw: (kind: RetryKind, now: number) => Option.Option<number>
  /** A call succeeded after its retries withdrew `spent`. */
  readonly succeeded?: ((spent: number) => void) | undefined
  readonly snapshot: (now: number) => Snapshot
}

/**
 * Builds a budget service from synchronous rules. Each rule runs without
 * interruption or interleaving, so a rule that updates plain variables is
 * safe under any number of fibers.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * // A budget that never says no.
 * const unlimited = RetryBudget.make({
 *   withdraw: () => Option.some(0),
 *   snapshot: () => ({ available: Infinity, capacity: Infinity })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (rules: Rules) => Service = internal.make

/**
 * The budget in scope. `Retry.retry` and `HttpRetry.withRetry` use it when it
 * is provided; nothing changes when it is not.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * const available = Effect.flatMap(RetryBudget.RetryBudget, (budget) => budget.snapshot)
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RetryBudget extends Context.Tag("effect-retry/RetryBudget")<RetryBudget, Service>() {}

/**
 * Options of `tokenBucket`.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const options: RetryBudget.TokenBucketOptions = { capacity: 100, retryCost: 5 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenBucketOptions {
  /** Tokens when full. Default 500. */
  readonly capacity?: number | undefined
  /** Tokens a retry costs. Default 5. */
  readonly retryCost?: number | undefined
  /** Tokens a retry after a timeout costs. Default 10. */
  readonly timeoutCost?: number | undefined
  /** Tokens a first-attempt success gives back. Default 1. */
  readonly successRefund?: number | undefined
}

/**
 * Options of `ratio`.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const options: RetryBudget.RatioOptions = { percent: 10, window: "30 seconds", minPerSecond: 5 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RatioOptions {
  /** Retries allowed, as a percentage of requests in the window. Default 20. */
  readonly percent?: number | undefined
  /** The sliding window. Default 10 seconds. */
  readonly window?: import("effect/Duration").DurationInput | undefined
  /** Retries per second allowed whatever the traffic. Default 10. */
  readonly minPerSecond?: number | undefined
}


/**
 * Builds an AWS-style token bucket (the "standard" retry mode's retry quota):
 * a retry withdraws `retryCost` tokens (`timeoutCost` after a timeout) and is
 * refused when too few are left; a call that succeeds after retries puts back
 * what its retries took, a first-attempt success adds `successRefund`, never
 * above `capacity`. Invalid options throw `RetryPolicy.InvalidRetryPolicy`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.makeTokenBucket({ capacity: 50 })
 *   return yield* budget.withdraw("error") // Some(5)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeTokenBucket: (options?: TokenBucketOptions) => Effect.Effect<Service> = internal.makeTokenBucket


/**
 * Builds a Finagle-style ratio budget: over a sliding `window`, retries may be
 * at most `percent` % of requests, plus `minPerSecond` retries per second so
 * that a quiet client can still retry. The window is kept in ten slots, so
 * memory does not grow with traffic. Invalid options throw
 * `RetryPolicy.InvalidRetryPolicy`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.makeRatio({ percent: 20, minPerSecond: 0 })
 *   for (let i = 0; i < 10; i++) yield* budget.request
 *   return yield* budget.snapshot // { available: 2, ... }
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRatio: (options?: RatioOptions) => Effect.Effect<Service> = internal.makeRatio

/**
 * A layer with a token bucket budget (see `makeTokenBucket`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryBudget, RetryPolicy } from "effect-retry"
 *
 * const program = Effect.fail({ isRetryable: true }).pipe(
 *   Retry.retry(RetryPolicy.default),
 *   Effect.provide(RetryBudget.tokenBucket())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const tokenBucket = (options?: TokenBucketOptions): Layer.Layer<RetryBudget> =>
  Layer.effect(RetryBudget, makeTokenBucket(options))

/**
 * A layer with a ratio budget (see `makeRatio`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryBudget, RetryPolicy } from "effect-retry"
 *
 * const program = Effect.fail({ isRetryable: true }).pipe(
 *   Retry.retry(RetryPolicy.default),
 *   Effect.provide(RetryBudget.ratio({ percent: 10 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const ratio = (options?: RatioOptions): Layer.Layer<RetryBudget> => Layer.effect(RetryBudget, makeRatio(options))
