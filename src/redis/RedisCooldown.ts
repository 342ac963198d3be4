/**
 * Retry-After cool-downs shared by every process of a fleet, through Redis:
 * the fleet's counterpart of `RetryCooldown.layerMemory`. When one worker is
 * told "429, retry after 20 s" for an API key, the other workers learn it
 * within a Redis round trip and wait too, instead of each collecting its own
 * 429.
 *
 * - Reading a cool-down (before every retry, and before first attempts when
 *   the call opts in) never touches the network: each process keeps a local
 *   view, which Redis pub/sub updates as soon as any process records one.
 * - A cool-down travels as the time left, measured on Redis's clock (`TIME`),
 *   so hosts need no common clock. Each is kept in one sorted set with a TTL
 *   that ends with the last cool-down.
 * - Recording one does not make the call wait: the local view changes at
 *   once and Redis is told in the background, within `RedisStore`'s time limit.
 * - When Redis is down, each process still honours the cool-downs it received
 *   itself (a per-process cool-down); when Redis returns, the subscriber
 *   reconnects and reads the cool-downs still running.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as RetryCooldown from "../RetryCooldown.js"
import * as internal from "./internal/cooldown.js"
import type { Store } from "./internal/store.js"
import { RedisStore } from "./RedisStore.js"

/**
 * Builds a cool-down store shared through Redis; its subscriber connection
 * lives in the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RedisCooldown, RedisStore } from "effect-retry/redis"
 *
 * const program = Effect.gen(function*() {
 *   const cooldown = yield* RedisCooldown.make
 *   yield* cooldown.record("https://api.example.com", "2 seconds")
 * }).pipe(Effect.scoped, Effect.provide(RedisStore.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<RetryCooldown.Service, never, RedisStore | Scope.Scope> = Effect.flatMap(
  RedisStore,
  (store) => internal.make(store as Store)
)

/**
 * A layer with a cool-down store shared by every process that uses the same
 * Redis and prefix.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { RetryPolicy } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 * import { RedisCooldown, RedisStore } from "effect-retry/redis"
 *
 * const Cooldown = RedisCooldown.layer.pipe(Layer.provide(RedisStore.layer({ url: "redis://127.0.0.1:6379" })))
 *
 * const program = Effect.gen(function*() {
 *   const client = (yield* HttpClient.HttpClient).pipe(HttpRetry.withRetry(RetryPolicy.default, { cooldown: "all" }))
 *   return yield* client.get("https://api.example.com/v1/models")
 * }).pipe(Effect.provide(Cooldown))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<RetryCooldown.RetryCooldown, never, RedisStore> = Layer.scoped(
  RetryCooldown.RetryCooldown,
  make
)
