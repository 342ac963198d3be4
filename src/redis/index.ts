/**
 * effect-retry/redis: retry budgets and Retry-After cool-downs shared by every
 * process of a fleet, held in Redis (ioredis ^5, an optional peer dependency
 * of this entry only).
 *
 * @module effect-retry/redis
 * @since 0.1.0
 */

/**
 * The Redis connection the shared budgets and cool-downs use.
 *
 * @since 0.1.0
 */
export * as RedisStore from "./RedisStore.js"

/**
 * Token bucket and ratio budgets shared through Redis.
 *
 * @since 0.1.0
 */
export * as RedisBudget from "./RedisBudget.js"


/**
 * Retry-After cool-downs shared through Redis.
 *
 * @since 0.1.0
 */
export * as RedisCooldown from "./RedisCooldown.js"
