/**
 * Retry budgets shared by every process of a fleet, held in Redis. A budget
 * in one process protects a dependency from that process; 100 pods with a
 * token bucket of 500 each may take 50,000 retries together. These layers
 * provide the same `RetryBudget` service as `RetryBudget.tokenBucket` and
 * `RetryBudget.ratio`, so `Retry.retry` and `HttpRetry.withRetry` use them
 * unchanged, but the tokens and counts live in Redis under the `name` you give
 * (one per downstream dependency), and every process that uses the same name
 * and Redis draws on the same budget.
 *
 * - A call that succeeds at its first attempt makes no Redis call: request
 *   counts and refunds are added up in the process and sent in batches
 *   (`flushEvery`, 200 ms by default) by a fiber of the layer's scope.
 * - A retry makes one Redis call: one Lua script, atomic on the server, with
 *   time from the server's `TIME`; every key has a TTL.
 * - When Redis cannot answer within `RedisStore`'s time limit (down, slow,
 *   garbage), the retry follows `onStoreError`: `"local"` (the default) draws
 *   on an in-process budget with the same options, `"allow"` retries as if
 *   there were no budget, `"deny"` does not retry. The failure is counted in
 *   `RedisStore.errors`; nothing waits, fails or dies, and the shared budget is
 *   used again as soon as Redis answers.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as RetryBudget from "../RetryBudget.js"
import * as internal from "./internal/budget.js"
import type { Store } from "./internal/store.js"
import { RedisStore } from "./RedisStore.js"

/**
 * What a shared budget does with a retry when Redis cannot answer: `"local"`
 * draws on an in-process budget with the same options, `"allow"` retries
 * without a budget, `"deny"` does not retry.
 *
 * @example
 * ```ts
 * import type { RedisBudget } from "effect-retry/redis"
 *
 * const mode: RedisBudget.Mode = "local"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "allow" | "deny" | "local"

/**
 * Options of `tokenBucket`: those of `RetryBudget.tokenBucket`, plus the
 * budget's name, the fault mode, the flush interval and the TTL.
 *
 * @example
 * ```ts
 * import type { RedisBudget } from "effect-retry/redis"
 *
 * const options: RedisBudget.TokenBucketOptions = { name: "payments-api", capacity: 500, onStoreError: "deny" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenBucketOptions extends RetryBudget.TokenBucketOptions {
  /** The budget's name; every process using the same name shares its tokens. */
  readonly name: string
  /** What a retry does when Redis cannot answer. Default `"local"`. */
  readonly onStoreError?: Mode | undefined
  /** How often refunds gathered in this process are sent. Default 200 ms. */
  readonly flushEvery?: Duration.DurationInput | undefined
  /** An untouched bucket is removed (so it is full again) after this long. Default 10 minutes. */
  readonly ttl?: Duration.DurationInput | undefined
}

/**
 * Options of `ratio`: those of `RetryBudget.ratio`, plus the budget's name,
 * the fault mode and the flush interval.
 *
 * @example
 * ```ts
 * import type { RedisBudget } from "effect-retry/redis"
 *
 * const options: RedisBudget.RatioOptions = { name: "search-api", percent: 10, window: "10 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RatioOptions extends RetryBudget.RatioOptions {
  /** The budget's name; every process using the same name shares its window. */
  readonly name: string
  /** What a retry does when Redis cannot answer. Default `"local"`. */
  readonly onStoreError?: Mode | undefined
  /** How often request counts gathered in this process are sent. Default 200 ms. */
  readonly flushEvery?: Duration.DurationInput | undefined
}

/**
 * Builds a token bucket shared through Redis, with the semantics of
 * `RetryBudget.makeTokenBucket` (retry cost, timeout cost, refunds, capacity).
 * Refunds reach Redis with the next flush. The flush fiber lives in the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RedisBudget, RedisStore } from "effect-retry/redis"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RedisBudget.makeTokenBucket({ name: "payments-api" })
 *   return yield* budget.withdraw("error")
 * }).pipe(Effect.scoped, Effect.provide(RedisStore.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeTokenBucket = (
  options: TokenBucketOptions
): Effect.Effect<RetryBudget.Service, never, RedisStore | Scope.Scope> => {
  const make = internal.makeTokenBucket(options)
  return Effect.flatMap(RedisStore, (store) => make(store as Store))
}

/**
 * Builds a ratio budget shared through Redis, with the semantics of
 * `RetryBudget.makeRatio`: retries are at most `percent` % of the fleet's
 * requests over the window, plus `minPerSecond` per second for the whole
 * fleet. Request counts reach Redis with the next flush.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RedisBudget, RedisStore } from "effect-retry/redis"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RedisBudget.makeRatio({ name: "search-api", percent: 10 })
 *   return yield* budget.snapshot
 * }).pipe(Effect.scoped, Effect.provide(RedisStore.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRatio = (options: RatioOptions): Effect.Effect<RetryBudget.Service, never, RedisStore | Scope.Scope> => {
  const make = internal.makeRatio(options)
  return Effect.flatMap(RedisStore, (store) => make(store as Store))
}

/**
 * A layer with a token bucket shared through Redis (see `makeTokenBucket`):
 * the fleet's counterpart of `RetryBudget.tokenBucket`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Retry, RetryPolicy } from "effect-retry"
 * import { RedisBudget, RedisStore } from "effect-retry/redis"
 *
 * const Budget = RedisBudget.tokenBucket({ name: "payments-api", capacity: 500 }).pipe(
 *   Layer.provide(RedisStore.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * const program = Effect.fail({ isRetryable: true }).pipe(
 *   Retry.retry(RetryPolicy.default),
 *   Effect.provide(Budget)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const tokenBucket = (options: TokenBucketOptions): Layer.Layer<RetryBudget.RetryBudget, never, RedisStore> =>
  Layer.scoped(RetryBudget.RetryBudget, makeTokenBucket(options))

/**
 * A layer with a ratio budget shared through Redis (see `makeRatio`): the
 * fleet's counterpart of `RetryBudget.ratio`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RedisBudget, RedisStore } from "effect-retry/redis"
 *
 * const Budget = RedisBudget.ratio({ name: "search-api", percent: 20, minPerSecond: 10 }).pipe(
 *   Layer.provide(RedisStore.layer())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const ratio = (options: RatioOptions): Layer.Layer<RetryBudget.RetryBudget, never, RedisStore> =>
  Layer.scoped(RetryBudget.RetryBudget, makeRatio(options))
