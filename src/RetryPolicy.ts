/**
 * A retry policy: how many attempts, how the delay grows and is randomised,
 * how Retry-After hints are honoured, and the total time budget. A policy is an
 * immutable value; build it once and reuse it across services. Turn it into an
 * Effect `Schedule` with `toSchedule`, or run an effect under it with
 * `Retry.retry`.
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { Pipeable } from "effect/Pipeable"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import { InvalidRetryPolicy as InvalidRetryPolicyError } from "./internal/errors.js"
import * as internal from "./internal/policy.js"
import type * as RetrySchedule from "./RetrySchedule.js"

/**
 * Raised by `make` (thrown) and `decode` (failed) when an option is invalid.
 * Its message names the field, the value and what is allowed.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * const attempt = (maxAttempts: number): string => {
 *   try {
 *     return `${RetryPolicy.make({ maxAttempts }).maxAttempts} attempts`
 *   } catch (error) {
 *     return error instanceof RetryPolicy.InvalidRetryPolicy ? error.message : "unexpected"
 *   }
 * }
 * attempt(0) // "Invalid retry policy: maxAttempts is 0, expected an integer >= 1"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidRetryPolicy = InvalidRetryPolicyError

/**
 * The type of `InvalidRetryPolicy` errors.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryPolicy } from "effect-retry"
 *
 * const report = (error: RetryPolicy.InvalidRetryPolicy) => Effect.logError(error.message)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type InvalidRetryPolicy = InvalidRetryPolicyError

/**
 * The resolved Retry-After rules of a policy.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * const rules = RetryPolicy.default.retryAfter // { max: Duration(1m), whenAboveMax: "fail", spread: 0.1 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryAfterRules {
  readonly max: Duration.Duration
  readonly whenAboveMax: RetrySchedule.WhenAboveMax
  readonly spread: number
}

/**
 * The options of `make` and `decode`; every one is optional.
 *
 * @example
 * ```ts
 * import type { RetryPolicy } from "effect-retry"
 *
 * const options: RetryPolicy.Options = {
 *   maxAttempts: 5,
 *   baseDelay: "200 millis",
 *   jitter: "full",
 *   maxElapsed: "10 seconds",
 *   retryAfter: { max: "30 seconds", whenAboveMax: "clamp" },
 *   name: "payments"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Total attempts, the first included: an integer >= 1. Default 3. */
  readonly maxAttempts?: number | undefined
  /** The delay before the first retry, before jitter. Default 500 millis. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** The cap on every computed delay. Default 8 seconds. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Growth per retry, at least 1. Default 2. */
  readonly factor?: number | undefined
  /** Default `{ min: 0.75, max: 1.25 }`. */
  readonly jitter?: RetrySchedule.Jitter | undefined
  /** A total budget from the start of the first attempt. Default none. */
  readonly maxElapsed?: Duration.DurationInput | undefined
  /** Retry-After rules, or `false` to ignore hints. */
  readonly retryAfter?: RetrySchedule.RetryAfterOptions | false | undefined
  /** A label carried into logs, metrics and events. */
  readonly name?: string | undefined
}

/**
 * The unique identifier of a `RetryPolicy`: the key of the brand every policy
 * carries.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * const branded = RetryPolicy.TypeId in RetryPolicy.make() // true
 * ```
 *
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * const id: RetryPolicy.TypeId = RetryPolicy.TypeId
 * ```
 *
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * A resolved, immutable retry policy. Two policies with the same fields are
 * `Equal`.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { RetryPolicy } from "effect-retry"
 *
 * const policy: RetryPolicy.RetryPolicy = RetryPolicy.make({ baseDelay: "1 second" })
 * Duration.toMillis(policy.baseDelay) // 1000
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy extends Pipeable {
  readonly [TypeId]: TypeId
  readonly maxAttempts: number
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
  readonly factor: number
  readonly jitter: RetrySchedule.Jitter
  readonly maxElapsed: Option.Option<Duration.Duration>
  readonly retryAfter: RetryAfterRules | false
  readonly name: Option.Option<string>
}

/**
 * The policy options as a `Schema`: from the options of `make` (as untrusted
 * input: JSON, flags, a request) to a `RetryPolicy`. `make`, `decode` and
 * `config` decode through it. Only own properties are read, an unknown key is
 * an error, `null` is never a default (`retryAfter: false` ignores hints), and
 * durations are canonical, so equal durations given differently make `Equal`
 * policies. Its encoding is `toOptions`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { RetryPolicy } from "effect-retry"
 *
 * const program = Schema.decodeUnknown(RetryPolicy.FromOptions)({ maxAttempts: 4, baseDelay: "250ms" }).pipe(
 *   Effect.map((policy) => policy.maxAttempts)
 * )
 * ```
 *
 * @since 0.2.0
 * @category schemas
 */
export const FromOptions: Schema.Schema<RetryPolicy, unknown> = internal.FromOptions

/**
 * Builds a policy from options, filling in the defaults: 3 attempts, 500 ms
 * base, factor 2, 8 s cap, ±25 % jitter, Retry-After honoured up to 60 s.
 * Throws `InvalidRetryPolicy` on an invalid option.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * const policy = RetryPolicy.make({ maxAttempts: 5, jitter: "full", name: "search-api" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => RetryPolicy = internal.make

/**
 * The default policy: 3 attempts, 500 ms base, factor 2, 8 s cap, ±25 % jitter,
 * Retry-After honoured up to 60 s with a 10 % spread.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryPolicy } from "effect-retry"
 *
 * const program = Effect.succeed(1).pipe(Retry.retry(RetryPolicy.default))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
const defaultPolicy: RetryPolicy = internal.defaultPolicy
export { defaultPolicy as default }

/**
 * Decodes a policy from untrusted data (a JSON file, a request): the same
 * option shape as `make`, durations as Effect duration strings ("250 millis"),
 * the short forms the library prints ("250ms", "1.5s") or milliseconds. Every
 * bad value (hostile ones included: `null`, values past a double's range) fails
 * with an `InvalidRetryPolicy` that names the field; `undefined` is the default
 * policy.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryPolicy } from "effect-retry"
 *
 * const program = RetryPolicy.decode(JSON.parse('{"maxAttempts":4,"baseDelay":"250 millis"}')).pipe(
 *   Effect.tap((policy) => Effect.log(policy.maxAttempts))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const decode: (input: unknown) => Effect.Effect<RetryPolicy, InvalidRetryPolicy> = internal.decode

/**
 * Returns a copy of a policy with some options replaced.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * const patient = RetryPolicy.default.pipe(RetryPolicy.update({ maxAttempts: 6 }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const update: {
  (options: Options): (self: RetryPolicy) => RetryPolicy
  (self: RetryPolicy, options: Options): RetryPolicy
} = internal.update

/**
 * The options that rebuild a policy with `make`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * const options = RetryPolicy.toOptions(RetryPolicy.default)
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const toOptions: (self: RetryPolicy) => Options = internal.toOptions

/**
 * Tells whether a value is a `RetryPolicy`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 *
 * RetryPolicy.isRetryPolicy(RetryPolicy.default) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryPolicy: (u: unknown) => u is RetryPolicy = internal.isRetryPolicy

/**
 * Options of `toSchedule`.
 *
 * @example
 * ```ts
 * import type { RetryPolicy } from "effect-retry"
 *
 * const options: RetryPolicy.ScheduleOptions<{ readonly status: number }> = { while: (error) => error.status >= 500 }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface ScheduleOptions<E> {
  /** Decides which failures are retried; replaces `Retryable.isRetryable`. */
  readonly while?: ((error: E) => boolean) | undefined
}

/**
 * The policy as an Effect `Schedule` whose input is the failure, for plain
 * `Effect.retry` or for composing with Effect's combinators under
 * `Retry.retry`. Each step is the decision `Retry.retry(policy)` takes, with
 * the same random draws in the same order: it stops on a failure that is not
 * retryable (`Retryable.isRetryable`, or your `while`) or when the attempts are
 * used up, otherwise it computes the backoff (jittered, capped), applies a
 * Retry-After hint and checks the total budget, which begins at the first
 * failure (the first time a Schedule sees). It takes the same decisions as
 * `backoff → capped → honorRetryAfter → whileRetryable → limited → deadline`
 * from `RetrySchedule`, but draws nothing for a step that stops. Its output is
 * the backoff (jittered and capped, before any Retry-After hint).
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { RetryPolicy } from "effect-retry"
 *
 * const program = Effect.fail({ isRetryable: true }).pipe(
 *   Effect.retry(RetryPolicy.toSchedule(RetryPolicy.default))
 * )
 *
 * class HttpError {
 *   constructor(readonly status: number) {}
 * }
 * const schedule = RetryPolicy.toSchedule(RetryPolicy.default, { while: (e: HttpError) => e.status >= 500 }).pipe(
 *   Schedule.upTo("10 seconds")
 * )
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toSchedule: <E = unknown>(
  policy: RetryPolicy,
  options?: ScheduleOptions<E>
) => Schedule.Schedule<Duration.Duration, E> = internal.toSchedule

/**
 * A `Config` that reads a policy from the keys `MAX_ATTEMPTS`, `BASE_DELAY`,
 * `MAX_DELAY`, `FACTOR`, `JITTER` (`none`, `full`, `equal`, `decorrelated` or a
 * range such as `0.75..1.25`), `MAX_ELAPSED`, `RETRY_AFTER` (`on` or `off`:
 * `off` is `retryAfter: false`), `RETRY_AFTER_MAX`,
 * `RETRY_AFTER_WHEN_ABOVE_MAX` (`fail`, `clamp` or `ignore`) and
 * `RETRY_AFTER_SPREAD`, each optional with the defaults of `make`. Durations are Effect duration strings
 * ("500 millis"), the short forms the library prints ("500ms", "1.2s",
 * "1m 30s") or integers of milliseconds. Values are decoded by `FromOptions`,
 * as in `make`. A bad value fails with a `ConfigError` that names the key
 * (several bad values: one for each key, joined as `Config.all` joins them);
 * an empty (or blank) value is such an error too, saying it is empty, never
 * read as 0. Nest it to add a prefix.
 *
 * @example
 * ```ts
 * import { Config, Effect } from "effect"
 * import { RetryPolicy } from "effect-retry"
 *
 * // reads RETRY_MAX_ATTEMPTS, RETRY_BASE_DELAY, ...
 * const program = Effect.gen(function*() {
 *   const policy = yield* Config.nested(RetryPolicy.config, "RETRY")
 *   return policy.maxAttempts
 * })
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<RetryPolicy> = internal.config

/**
 * Named policies for common situations:
 * - `default`: 3 attempts, 500 ms base, 8 s cap, ±25 % jitter.
 * - `llm`: for LLM provider APIs: 3 attempts, 0.5 s to 8 s, Retry-After
 *   honoured up to 60 s; a longer hint gives up at once rather than blocking
 *   an agent for minutes.
 * - `latency-sensitive`: 5 attempts, full jitter from 100 ms, capped at 1 s,
 *   the whole call within 3.5 s, Retry-After honoured only up to 1 s.
 * - `aws-standard`: the AWS SDK standard mode: 3 attempts, full jitter,
 *   100 ms base, 20 s cap; longer Retry-After hints are clamped to 20 s.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryPolicy } from "effect-retry"
 *
 * const program = Effect.succeed("ok").pipe(Retry.retry(RetryPolicy.presets["latency-sensitive"]))
 * ```
 *
 * @since 0.1.0
 * @category presets
 */
export const presets: {
  readonly default: RetryPolicy
  readonly llm: RetryPolicy
  readonly "latency-sensitive": RetryPolicy
  readonly "aws-standard": RetryPolicy
} = internal.presets

/**
 * The names of the presets.
 *
 * @example
 * ```ts
 * import type { RetryPolicy } from "effect-retry"
 *
 * const name: RetryPolicy.PresetName = "llm"
 * ```
 *
 * @since 0.1.0
 * @category presets
 */
export type PresetName = keyof typeof presets

/**
 * Looks a preset up by name, for names that come from users (a CLI flag, a
 * config file). An unknown name fails with `InvalidRetryPolicy`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryPolicy } from "effect-retry"
 *
 * const program = RetryPolicy.preset("aws-standard").pipe(Effect.map((policy) => policy.maxAttempts))
 * ```
 *
 * @since 0.1.0
 * @category presets
 */
export const preset: (name: string) => Effect.Effect<RetryPolicy, InvalidRetryPolicy> = internal.preset
