/**
 * Shared cool-downs for Retry-After. When a dependency answers one call "retry
 * after 20 s" for a whole API key or origin, every other call to it would
 * otherwise keep sending and collect its own 429. With a `RetryCooldown` in
 * scope, a failure that carries a Retry-After hint records "not before T" for
 * its key, and every call to that key waits until T: its retries always, its
 * first attempts when the call opts in (`cooldown: "all"` in
 * `HttpRetry.withRetry`, `firstAttempts: true` in `Retry.retry`).
 *
 * `layerMemory` shares cool-downs between the fibers of one process; the
 * fleet-wide store, on Redis, is `RedisCooldown` in `effect-retry/redis`.
 * Reading a cool-down never waits on a network: the Redis store keeps a local
 * view, updated by Redis pub/sub.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/cooldown.js"

/**
 * The cool-down service. `record` keeps the later of two cool-downs for a key;
 * `unsafeRemaining` is the synchronous read the retry loop makes, which never
 * waits.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryCooldown } from "effect-retry"
 *
 * const program = Effect.gen(function*() {
 *   const cooldown = yield* RetryCooldown.make
 *   yield* cooldown.record("https://api.example.com", "2 seconds")
 *   return yield* cooldown.remaining("https://api.example.com") // about 2 seconds
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Records that `key` may not be called for `delay` from now (the later of two cool-downs wins). */
  readonly record: (key: string, delay: Duration.DurationInput) => Effect.Effect<void>
  /** What is left of `key`'s cool-down (zero when there is none). */
  readonly remaining: (key: string) => Effect.Effect<Duration.Duration>
  /** Milliseconds left of `key`'s cool-down at `now` (epoch ms); never waits. */
  readonly unsafeRemaining: (key: string, now: number) => number
}

/**
 * The cool-down store in scope. `Retry.retry` and `HttpRetry.withRetry` use it
 * when it is provided; nothing changes when it is not.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryCooldown } from "effect-retry"
 *
 * const left = Effect.flatMap(RetryCooldown.RetryCooldown, (cooldown) => cooldown.remaining("https://api.example.com"))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RetryCooldown extends Context.Tag("effect-retry/RetryCooldown")<RetryCooldown, Service>() {}

/**
 * Builds a cool-down store held in this process's memory.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryCooldown } from "effect-retry"
 *
 * const program = Effect.flatMap(RetryCooldown.make, (cooldown) => cooldown.record("search", "500 millis"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service> = internal.make

/**
 * A layer with a cool-down store shared by the fibers of one process: eight
 * fibers of one agent that share an API key stop together when one of them
 * is told to retry after a while.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { RetryCooldown, RetryPolicy } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 *
 * const program = Effect.gen(function*() {
 *   const client = (yield* HttpClient.HttpClient).pipe(
 *     HttpRetry.withRetry(RetryPolicy.default, { cooldown: "all" })
 *   )
 *   return yield* client.get("https://api.example.com/v1/models")
 * }).pipe(Effect.provide(RetryCooldown.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<RetryCooldown> = Layer.effect(RetryCooldown, make)
