/**
 * A retrying `HttpClient` middleware for `@effect/platform`. Each request is
 * retried on its own under a `RetryPolicy`: Retry-After and the rate-limit
 * reset headers are honoured, methods that are not idempotent are left alone
 * unless they carry an `Idempotency-Key`, a request with a header that HTTP
 * forbids fails before anything is sent, and a response is handed to the caller
 * as soon as it is not going to be retried, so a stream that has begun is never
 * replayed.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as ClientRequest from "@effect/platform/HttpClientRequest"
import type * as ClientResponse from "@effect/platform/HttpClientResponse"
import type { YieldableError } from "effect/Cause"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as RetryBudget from "../RetryBudget.js"
import type * as RetryEvent from "../RetryEvent.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as internal from "./internal/httpRetry.js"

/**
 * The statuses retried by default: 408, 425, 429, 500, 502, 503, 504, 529.
 *
 * @example
 * ```ts
 * import { HttpRetry } from "effect-retry/http"
 *
 * const withConflicts = [...HttpRetry.defaultStatuses, 409]
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStatuses: ReadonlyArray<number> = internal.defaultStatuses

/**
 * The methods retried by default, the idempotent ones: GET, HEAD, OPTIONS,
 * PUT, DELETE, TRACE, QUERY. POST and PATCH are retried when the request has an
 * `Idempotency-Key` header.
 *
 * @example
 * ```ts
 * import { HttpRetry } from "effect-retry/http"
 *
 * const alsoPost = [...HttpRetry.defaultMethods, "POST"]
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMethods: ReadonlyArray<string> = internal.defaultMethods

/**
 * The failure that a retryable response becomes inside the retry loop, so that
 * events and classifiers can see it. It never leaves the middleware: when
 * retries run out the response itself is returned.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { RetryEvent } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 *
 * const onEvent = (event: RetryEvent.RetryEvent) =>
 *   event._tag === "Retrying" && event.error instanceof HttpRetry.RetryableStatus
 *     ? Effect.log(`status ${event.error.response.status}`)
 *     : Effect.void
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export interface RetryableStatus extends YieldableError {
  readonly _tag: "RetryableStatus"
  /** The response, as it came. */
  readonly response: ClientResponse.HttpClientResponse
  /** The delay the response asked for, read from its headers (see `RetryAfter.fromHeaders`). */
  readonly retryAfter: Duration.Duration | undefined
  /** Always retryable: the middleware only builds one for a response that asked to be. */
  readonly isRetryable: true
}

/**
 * The failure that a retryable response becomes inside the retry loop, so
 * that events and classifiers can see it; when retries run out the response
 * itself is returned. `instanceof RetryableStatus` tells one apart.
 *
 * @example
 * ```ts
 * import type { RetryEvent } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 *
 * const statusOf = (event: RetryEvent.RetryEvent): number | undefined =>
 *   event._tag !== "Succeeded" && event.error instanceof HttpRetry.RetryableStatus
 *     ? event.error.response.status
 *     : undefined
 * ```
 *
 * @since 0.1.0
 * @category errors
 * @class
 */
export const RetryableStatus: new(args: {
  readonly response: ClientResponse.HttpClientResponse
  readonly retryAfter: Duration.Duration | undefined
}) => RetryableStatus = internal.RetryableStatus

/**
 * Options of `withRetry`.
 *
 * @example
 * ```ts
 * import { HttpRetry } from "effect-retry/http"
 *
 * const options: HttpRetry.Options = {
 *   attemptTimeout: "10 seconds",
 *   idempotencyKey: "auto",
 *   attemptHeader: "x-retry-attempt",
 *   buffer: true
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Statuses that are retried. Default `defaultStatuses`. */
  readonly retryOn?: ReadonlyArray<number> | undefined
  /**
   * A time limit for each attempt (with `buffer`, the body read included). An
   * attempt that runs out fails with `RequestError` "Transport" whose cause is
   * the `TimeoutException` (see `isAttemptTimeout`), and is retried. A finite
   * duration above zero.
   */
  readonly attemptTimeout?: Duration.DurationInput | undefined
  /** Methods that are retried. Default `defaultMethods`. */
  readonly methods?: ReadonlyArray<string> | undefined
  /** `"auto"` adds a random `Idempotency-Key` to POST and PATCH requests that have none. */
  readonly idempotencyKey?: "auto" | "off" | undefined
  /**
   * A header in which each attempt sends its 0-based retry count; not
   * `Idempotency-Key` nor a header the transport owns (`Host`, `Content-Length`...).
   */
  readonly attemptHeader?: string | undefined
  /** Called with each event of each request, in order. */
  readonly onEvent?: ((event: RetryEvent.RetryEvent) => Effect.Effect<void>) | undefined
  /** A further test, consulted for failures the defaults would retry; `false` stops. */
  readonly while?: ((error: unknown) => boolean) | undefined
  /**
   * Read the whole body inside the retry boundary, so a connection lost
   * mid-body is retried. A stream of messages (`text/event-stream`,
   * `application/x-ndjson`, `application/jsonl`) is never buffered: it is
   * handed over as it arrives, so one client serves JSON calls and streams alike.
   */
  readonly buffer?: boolean | undefined
  /** A budget to draw on instead of the `RetryBudget` service in the context. */
  readonly budget?: RetryBudget.Service | undefined
  /**
   * Read a stream request body (up to `maxBytes`) into memory before the first
   * attempt, so that a retry can send it again. Without it, a request whose
   * body is a stream is sent once and never retried.
   */
  readonly bufferRequestBody?: { readonly maxBytes: number } | undefined
  /**
   * Cool-downs, when a `RetryCooldown` is in the context: `"retries"` (the
   * default) records each Retry-After hint for the request's key and makes
   * retries wait until a running cool-down ends; `"all"` makes first attempts
   * wait too (the LLM case: a limit per API key); `"off"` leaves them alone.
   * Requests that are never retried (a method outside `methods`) are not
   * affected.
   */
  readonly cooldown?: "retries" | "all" | "off" | undefined
  /**
   * The cool-down key of a request; by default its origin
   * (`https://api.example.com`). Add a fingerprint of an API key to share a
   * per-key limit, never the key itself: keys are stored and logged.
   */
  readonly cooldownKey?: ((request: ClientRequest.HttpClientRequest) => string) | undefined
}

/**
 * The error type of a client wrapped by `withRetry`: the client's own, plus
 * the `RequestError` of a rejected header, a stream body over
 * `bufferRequestBody`, or an attempt that ran out of `attemptTimeout`. For a
 * client whose errors are `HttpClientError` it is `HttpClientError` again, so
 * the wrapped client fits wherever an `HttpClient` is expected.
 *
 * @example
 * ```ts
 * import type { HttpClientError } from "@effect/platform"
 * import type { HttpRetry } from "effect-retry/http"
 *
 * type E = HttpRetry.WithRetryError<HttpClientError.HttpClientError> // HttpClientError
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type WithRetryError<E> = E | HttpClientError.RequestError

/**
 * Whether an error is an attempt that ran out of `attemptTimeout`: a
 * `RequestError` with reason "Transport" whose `cause` is the
 * `Cause.TimeoutException`. A timed-out attempt surfaces that way (rather than
 * as the bare `TimeoutException`) so that the wrapped client keeps the
 * client's own error type.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { RetryPolicy } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 *
 * const program = Effect.gen(function*() {
 *   const client = (yield* HttpClient.HttpClient).pipe(
 *     HttpRetry.withRetry(RetryPolicy.default, { attemptTimeout: "10 seconds" })
 *   )
 *   return yield* client.get("https://api.example.com/v1/slow")
 * }).pipe(
 *   Effect.catchIf(HttpRetry.isAttemptTimeout, () => Effect.succeed("timed out"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category classification
 */
export const isAttemptTimeout: (error: unknown) => error is HttpClientError.RequestError = internal.isAttemptTimeout

/**
 * The HTTP classification, for users who wrap calls with `Retry.retry`
 * themselves: transport failures, timeouts, retryable statuses (by default;
 * `x-should-retry` overrides), and a connection lost while a body was read are
 * retryable; other 4xx, `Encode` and `InvalidUrl` errors, and a body that
 * arrived whole but does not decode are not. Errors that follow the
 * `Retryable` protocol are judged by it.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Retry, RetryPolicy } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 *
 * const getJson = (url: string) =>
 *   Effect.flatMap(HttpClient.HttpClient, (client) =>
 *     client.get(url).pipe(
 *       Effect.flatMap((response) => response.json),
 *       Retry.retry(RetryPolicy.default, { while: HttpRetry.isRetryable })
 *     ))
 * ```
 *
 * @since 0.1.0
 * @category classification
 */
export const isRetryable: (error: unknown) => boolean = internal.isRetryable

/**
 * Wraps an `HttpClient` so that each request it sends is retried on its own
 * under `policy` (the retry boundary is one request, never a group of calls).
 *
 * - Retried: `RequestError` "Transport" (refused, reset, DNS), `attemptTimeout`
 *   expiry, and responses whose status is in `retryOn` (or that say
 *   `x-should-retry: true`, from 400 up). `x-should-retry: false` stops.
 * - Retry-After and retry-after-ms (and, on a 429, the rate-limit reset
 *   headers) feed the policy's `retryAfter` rules.
 * - Only idempotent methods are retried, and POST/PATCH with an
 *   `Idempotency-Key`; `idempotencyKey: "auto"` adds one key per call.
 * - A request whose body is a stream (which may be one-shot) is sent once and
 *   never retried; a `GaveUp` event with reason `"body-not-replayable"` says
 *   when it would have been. `bufferRequestBody` reads such a body into memory
 *   first so that it can be replayed.
 * - A URL whose scheme is not followed by `//` (`localhost:8080/p`, a pasted
 *   `user:password@host`) fails the call with `RequestError` "InvalidUrl"
 *   before anything is sent.
 * - A header that HTTP forbids fails the call with `RequestError` "Encode"
 *   before anything is sent; the message names the header, never its value.
 * - When retries run out on a retryable status, the last response is returned
 *   as it came; on an error, that error.
 * - By default the decision is taken on status and headers; the body is the
 *   caller's and an error reading it is never retried. With `buffer: true` the
 *   body is read inside the boundary and a connection lost mid-body is retried.
 *
 * @example
 * ```ts
 * import { FetchHttpClient, HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { RetryPolicy } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 *
 * const program = Effect.gen(function*() {
 *   const client = (yield* HttpClient.HttpClient).pipe(
 *     HttpRetry.withRetry(RetryPolicy.make({ name: "models-api" }), { attemptTimeout: "30 seconds" })
 *   )
 *   const response = yield* client.get("https://api.example.com/v1/models")
 *   return response.status
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const withRetry: {
  (
    policy: RetryPolicy.RetryPolicy,
    options?: Options
  ): <E, R>(self: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<WithRetryError<E>, R>
  <E, R>(
    self: HttpClient.HttpClient.With<E, R>,
    policy: RetryPolicy.RetryPolicy,
    options?: Options
  ): HttpClient.HttpClient.With<WithRetryError<E>, R>
} = internal.withRetry

/**
 * The statuses the official OpenAI and Anthropic SDKs retry: 408, 409, 429
 * and every status from 500 to 599 (529, Anthropic's "overloaded", included).
 *
 * @example
 * ```ts
 * import { HttpRetry } from "effect-retry/http"
 *
 * const retriesOverloaded = HttpRetry.llmStatuses.includes(529) // true
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const llmStatuses: ReadonlyArray<number> = [408, 409, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)]

/**
 * The policy of `HttpRetry.llm`, shaped after the official SDKs: 3 attempts
 * (2 retries), 0.5 s doubling up to 8 s, each delay reduced by up to 25 %.
 * Retry-After hints up to 60 s are honoured; a longer one gives up at once
 * (`whenAboveMax: "fail"`) and returns the 429 as it came, where openai-node
 * would ignore it and retry on its backoff into the same exhausted budget.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-retry"
 * import { HttpRetry } from "effect-retry/http"
 *
 * const patient = HttpRetry.llmPolicy.pipe(RetryPolicy.update({ maxAttempts: 5 }))
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const llmPolicy: RetryPolicy.RetryPolicy = RetryPolicy.make({
  name: "llm",
  maxAttempts: 3,
  baseDelay: "500 millis",
  maxDelay: "8 seconds",
  jitter: { min: 0.75, max: 1 },
  retryAfter: { max: "60 seconds", whenAboveMax: "fail" }
})

/**
 * A ready-made `withRetry` for LLM provider APIs (OpenAI, Anthropic and
 * compatible ones), retrying as their official SDKs do: POST is retried
 * (LLM calls are POST) on a lost connection, an attempt timeout and the
 * `llmStatuses` (408, 409, 429, 5xx), `x-should-retry` overrides the status
 * either way, and `retry-after-ms` / `retry-after` (and on a 429 the
 * rate-limit budget that ran out) set the delay. A JSON answer is read whole
 * inside the retry boundary (`buffer: true`), so a connection lost mid-body is
 * retried; a stream (`text/event-stream`, NDJSON, JSON Lines) is handed over
 * as it arrives and never retried once it has begun. A request with a stream body is never
 * retried.
 *
 * It fits `OpenAiClient.layer({ transformClient })` and
 * `AnthropicClient.layer({ transformClient })`. `options` override the
 * preset's (`retryOn`, `methods`, `buffer`) and add the rest. POST is retried
 * without an `Idempotency-Key`, as the SDKs do: a request that reached the
 * provider before its connection was lost may be carried out (and billed)
 * twice. See docs/llm.md.
 *
 * @example
 * ```ts
 * import { AnthropicClient } from "@effect/ai-anthropic"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Config, Layer } from "effect"
 * import { HttpRetry } from "effect-retry/http"
 *
 * export const Anthropic = AnthropicClient.layerConfig({
 *   apiKey: Config.redacted("ANTHROPIC_API_KEY"),
 *   transformClient: HttpRetry.llm()
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const llm = (
  policy: RetryPolicy.RetryPolicy = llmPolicy,
  options: Options = {}
): <E, R>(self: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<WithRetryError<E>, R> =>
  withRetry(policy, { retryOn: llmStatuses, methods: [...defaultMethods, "POST"], buffer: true, ...options })
