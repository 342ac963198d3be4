/**
 * The Redis connection that fleet-wide budgets (`RedisBudget`) and cool-downs
 * (`RedisCooldown`) share. Every call to Redis has a short time limit; the
 * client queues nothing while it is disconnected and resends nothing, so a
 * Redis that is down, slow or answering garbage makes a call fall back at once
 * (see `RedisBudget`'s `onStoreError`) instead of waiting. Failed calls are
 * counted in `errors`; the client reconnects by itself.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as Redacted from "effect/Redacted"
import type { RedisOptions } from "ioredis"
import type { InvalidRetryPolicy } from "../RetryPolicy.js"
import * as internal from "./internal/store.js"

/**
 * Options of `layer`.
 *
 * @example
 * ```ts
 * import type { RedisStore } from "effect-retry/redis"
 *
 * const options: RedisStore.Options = { url: "redis://127.0.0.1:6379/0", prefix: "checkout:", timeout: "100 millis" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://` for TLS, plain or
   * `Redacted` (as `Config.redacted` reads it). Default `redis://127.0.0.1:6379`.
   */
  readonly url?: string | Redacted.Redacted<string> | undefined
  /** Prepended to every key and channel. Default `"effect-retry:"`. */
  readonly prefix?: string | undefined
  /** The time limit of each Redis call. Default 200 ms. */
  readonly timeout?: Duration.DurationInput | undefined
  /** How long building the layer waits for the first connection; Redis may come later. Default 1 s. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /**
   * Further ioredis options (TLS, sentinels, a password). The options that keep
   * calls from waiting (no offline queue, no resend, the time limit) are set by
   * the library and win.
   */
  readonly redis?: RedisOptions | undefined
}

/**
 * Options of `layerConfig`, each read from configuration: the URL (plain or
 * `Config.redacted`), the key prefix and the two time limits. A time limit
 * may be a `Config.duration` or any text `RetryPolicy` reads as a duration
 * (`"200 millis"`, `"750ms"`). The rest of `Options` (TLS, sentinels) is
 * code, not configuration: build those layers with `layer`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import type { RedisStore } from "effect-retry/redis"
 *
 * const options: RedisStore.ConfigOptions = {
 *   url: Config.redacted("REDIS_URL"),
 *   timeout: Config.withDefault(Config.string("REDIS_TIMEOUT"), "200 millis")
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  readonly url?: Config.Config<string | Redacted.Redacted<string>> | undefined
  readonly prefix?: Config.Config<string> | undefined
  readonly timeout?: Config.Config<Duration.DurationInput | string> | undefined
  readonly connectTimeout?: Config.Config<Duration.DurationInput | string> | undefined
}

/**
 * The connection service: build it with `layer` or `layerConfig`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RedisStore } from "effect-retry/redis"
 *
 * const prefix = Effect.map(RedisStore.RedisStore, (store) => store.prefix)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The ioredis client, for reading what the library wrote. */
  readonly client: internal.Store["client"]
  readonly prefix: string
  readonly timeout: Duration.Duration
}

/**
 * The Redis connection in scope, required by the layers of `RedisBudget` and
 * `RedisCooldown`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RedisStore } from "effect-retry/redis"
 *
 * const ping = Effect.flatMap(RedisStore.RedisStore, (store) => Effect.promise(() => store.client.ping()))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RedisStore extends Context.Tag("effect-retry/redis/RedisStore")<RedisStore, Service>() {}

/**
 * A layer that opens the connection (and closes it with the layer's scope).
 * It waits at most `connectTimeout` for Redis: a Redis that is down at start is
 * handled like one that fails later. Invalid options throw a typed error naming
 * the option (never the URL, which may hold a password).
 *
 * @example
 * ```ts
 * import { RedisStore } from "effect-retry/redis"
 *
 * const RedisLive = RedisStore.layer({ url: "redis://127.0.0.1:6379", prefix: "payments:" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RedisStore> =>
  Layer.scoped(RedisStore, internal.makeStore(options))

/**
 * `layer` with its options read from configuration (see `ConfigOptions`), for
 * example `Config.redacted("REDIS_URL")` for the URL, which may hold a
 * password. An option that is read but invalid (a URL without `redis://`, a
 * negative time limit) fails the layer with `InvalidRetryPolicy` naming it.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { RedisStore } from "effect-retry/redis"
 *
 * const RedisLive = RedisStore.layerConfig({
 *   url: Config.redacted("REDIS_URL"),
 *   prefix: Config.withDefault(Config.string("REDIS_PREFIX"), "effect-retry:")
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: ConfigOptions
): Layer.Layer<RedisStore, ConfigError.ConfigError | InvalidRetryPolicy> =>
  Layer.scoped(RedisStore, Effect.flatMap(internal.readConfig(options), internal.makeStoreFrom))

/**
 * Counts Redis calls that failed, timed out or answered something unexpected,
 * tagged with `operation` (`withdraw`, `flush`, `snapshot`, `cooldown`, ...).
 * Every count carries the tag, so read it through the tag (the untagged
 * counter stays at 0), or export every metric with `Metric.snapshot`.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { RedisStore } from "effect-retry/redis"
 *
 * const failedWithdrawals = Effect.map(
 *   Metric.value(Metric.tagged(RedisStore.errors, "operation", "withdraw")),
 *   (state) => state.count
 * )
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const errors: Metric.Metric.Counter<number> = internal.errors
