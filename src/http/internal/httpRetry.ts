import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as ClientRequest from "@effect/platform/HttpClientRequest"
import type * as ClientResponse from "@effect/platform/HttpClientResponse"
import { isTimeoutException, TimeoutException } from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { NodeInspectSymbol } from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { type Call, makeRunner } from "../../internal/loop.js"
import { report } from "../../internal/report.js"
import * as Validate from "../../internal/validate.js"
import * as RetryPolicy from "../../RetryPolicy.js"
import * as RetryEvent from "../../RetryEvent.js"
import type * as HttpRetry from "../HttpRetry.js"
import { buffer as bufferResponse } from "./bufferedResponse.js"
import * as Classify from "./classify.js"
import { invalidHeaders, isToken, withoutInvalidHeaders } from "./headers.js"
import * as RequestBody from "./requestBody.js"
import { originOf, safeUrl, unsupportedUrl, withoutUserinfo } from "./url.js"

// The bodies of `HttpRetry`: the middleware, its per-request call, and the
// checks of its options.

export const defaultStatuses: ReadonlyArray<number> = [408, 425, 429, 500, 502, 503, 504, 529]
export const defaultMethods: ReadonlyArray<string> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "QUERY"]

/** The body of `HttpRetry.RetryableStatus`. */
export class RetryableStatus extends Data.TaggedError("RetryableStatus")<{
  readonly response: ClientResponse.HttpClientResponse
  /** The delay the response asked for, read from its headers (see `RetryAfter.fromHeaders`). */
  readonly retryAfter: Duration.Duration | undefined
}> {
  /** Always retryable: the middleware only builds one for a response that asked to be. */
  get isRetryable(): true {
    return true
  }
  override get message(): string {
    return `retryable status ${this.response.status}`
  }
  // Printed (in logs, a JSON line, the console) without the request's
  // headers, query string or userinfo, which the platform's own
  // serialisation of a response includes: the request is reachable as
  // `response.request` for code that needs it.
  override toJSON(): unknown {
    const request = this.response.request
    return {
      _tag: this._tag,
      status: this.response.status,
      method: request.method,
      url: safeUrl(request),
      retryAfter: this.retryAfter === undefined ? undefined : Duration.format(this.retryAfter)
    }
  }
  override [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
  override toString(): string {
    return `RetryableStatus: ${this.message} (${this.response.request.method} ${safeUrl(this.response.request)})`
  }
}

/**
 * A platform error as events carry it. Its prototype is the error itself, so
 * a listener reads the same tag, reason, request and class; but it prints
 * (`JSON.stringify`, `util.inspect`, `String`, its `message`) with the safe
 * URL and no header. Effect hides the Redactable headers (`authorization`...)
 * only while a logger writes, and the platform's message holds the whole URL,
 * query string included. The caller still gets the error itself.
 */
const shownInEvents = (error: unknown): unknown => {
  if (!HttpClientError.isHttpClientError(error)) return error
  const request = error.request
  const url = safeUrl(request)
  const where = `${request.method} ${url}`
  const status = error._tag === "ResponseError" ? error.response.status : undefined
  const json = {
    _tag: error._tag,
    reason: error.reason,
    ...(status === undefined ? {} : { status }),
    method: request.method,
    url,
    ...(error.description === undefined ? {} : { description: error.description })
  }
  const message = error.message.replace(error.methodAndUrl, where)
  return Object.create(error, {
    methodAndUrl: { value: where },
    message: { value: message },
    stack: { value: error.stack?.split(error.methodAndUrl).join(where) },
    toJSON: { value: () => json },
    [NodeInspectSymbol]: { value: () => json },
    toString: { value: () => `${error._tag}: ${message}` }
  })
}

/** The body of `HttpRetry.isAttemptTimeout`. */
export const isAttemptTimeout = (error: unknown): error is HttpClientError.RequestError =>
  HttpClientError.isHttpClientError(error) && error._tag === "RequestError" && error.reason === "Transport" &&
  isTimeoutException(error.cause)

/** The body of `HttpRetry.isRetryable`. */
export const isRetryable = (error: unknown): boolean => Classify.isRetryableError(error, defaultStatusSet)

const defaultStatusSet: ReadonlySet<number> = new Set(defaultStatuses)

const statusOf = (error: unknown): number | undefined => {
  if (error instanceof RetryableStatus) return error.response.status
  if (HttpClientError.isHttpClientError(error) && error._tag === "ResponseError") return error.response.status
  return undefined
}

// Idempotency keys must not repeat across processes: a key reused by another
// request makes the server replay that request's response. They come from
// the platform's cryptographic generator, not from Effect's Random, whose
// default is seeded once per process (and is often seeded on purpose in tests).
const randomUuid: Effect.Effect<string> = Effect.sync(() => globalThis.crypto.randomUUID())

// A retryable response's body is read and dropped so that its connection can
// be reused, but for a bounded time: a body that stalls must not hold the call.
// Running out interrupts the read, which aborts the request.
const DEFAULT_DRAIN_LIMIT = Duration.seconds(1)

// On interruption a pending response gets only a moment to finish: a body
// still arriving is cut, which aborts its connection.
const RELEASE_LIMIT = Duration.millis(10)

/** Releases a response that will not be handed out, within `limit`. */
const discard = (response: ClientResponse.HttpClientResponse, limit: Duration.Duration): Effect.Effect<void> =>
  // The limit is applied inside the stream, once it has started: the stream's
  // end (whole, failed or cut) is what releases or aborts the connection, and
  // a time limit racing from outside could win before the stream began.
  Effect.ignore(Stream.runDrain(Stream.interruptWhen(response.stream, Effect.sleep(limit))))

interface Resolved {
  readonly cooldown: "retries" | "all" | "off"
  readonly statuses: ReadonlySet<number>
  readonly methods: ReadonlySet<string>
  readonly attemptTimeout: Option.Option<Duration.Duration>
  /** How long a discarded response's body may take to drain. */
  readonly drainLimit: Duration.Duration
  readonly idempotencyKey: boolean
  readonly attemptHeader: string | undefined
  readonly buffer: boolean
  /** The largest stream body read into memory to be replayable; `undefined`: none is. */
  readonly bufferRequestBody: number | undefined
}

const isFunction = (value: unknown): value is (...args: ReadonlyArray<any>) => any => typeof value === "function"

const BUDGET_METHODS = ["withdraw", "succeeded"] as const
const OPTIONAL_BUDGET_METHODS = ["unsafeRequest", "unsafeSucceeded"] as const

const isBudget = (value: unknown): boolean => {
  if (typeof value !== "object" || value === null) return false
  const fields = value as Record<string, unknown>
  return BUDGET_METHODS.every((name) => isFunction(fields[name])) &&
    OPTIONAL_BUDGET_METHODS.every((name) => fields[name] === undefined || isFunction(fields[name]))
}

/** Each option is checked when `withRetry` is called; a bad one throws `InvalidRetryPolicy` naming it. */
const resolveOptions = (options: HttpRetry.Options): Resolved => {
  Validate.knownKeys("http", Validate.record("http", options), [
    "retryOn",
    "attemptTimeout",
    "methods",
    "idempotencyKey",
    "attemptHeader",
    "onEvent",
    "while",
    "buffer",
    "budget",
    "bufferRequestBody",
    "cooldown",
    "cooldownKey"
  ])
  const list = (field: string, value: unknown): ReadonlyArray<unknown> => {
    if (Array.isArray(value)) return value
    throw Validate.invalid(field, value, "an array")
  }
  const statuses = list("http.retryOn", orDefault(options.retryOn, defaultStatuses)).map((status, i) => {
    if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
      throw Validate.invalid(`http.retryOn[${i}]`, status, "an HTTP status from 100 to 599")
    }
    return status
  })
  const methods = list("http.methods", orDefault(options.methods, defaultMethods)).map((method, i) => {
    if (typeof method !== "string" || !isToken(method)) throw Validate.invalid(`http.methods[${i}]`, method, "an HTTP method")
    return method.toUpperCase()
  })
  const attemptTimeout = options.attemptTimeout === undefined
    ? Option.none()
    : Option.some(attemptLimit(options.attemptTimeout))
  const attemptHeader: unknown = options.attemptHeader
  if (attemptHeader !== undefined && (typeof attemptHeader !== "string" || !isToken(attemptHeader))) {
    throw Validate.invalid("http.attemptHeader", attemptHeader, "a valid header name")
  }
  if (typeof attemptHeader === "string" && RESERVED_HEADERS.has(attemptHeader.toLowerCase())) {
    throw Validate.invalid(
      "http.attemptHeader",
      attemptHeader,
      `a header of your own, not one the middleware or the transport sets (${[...RESERVED_HEADERS].join(", ")})`
    )
  }
  const buffer = Validate.optionalBoolean("http.buffer", options.buffer)
  for (const field of ["onEvent", "while"] as const) {
    const value: unknown = options[field]
    if (value !== undefined && !isFunction(value)) throw Validate.invalid(`http.${field}`, value, "a function")
  }
  const budget: unknown = options.budget
  if (budget !== undefined && !isBudget(budget)) {
    throw Validate.invalid("http.budget", budget, "a RetryBudget.Service (from RetryBudget.make, tokenBucket or ratio)")
  }
  if (options.cooldownKey !== undefined && typeof options.cooldownKey !== "function") {
    throw Validate.invalid("http.cooldownKey", options.cooldownKey, "a function of the request")
  }
  return {
    cooldown: Validate.oneOf("http.cooldown", orDefault(options.cooldown, "retries"), ["retries", "all", "off"]),
    statuses: new Set(statuses),
    methods: new Set(methods),
    attemptTimeout,
    drainLimit: Option.getOrElse(attemptTimeout, () => DEFAULT_DRAIN_LIMIT),
    idempotencyKey: Validate.oneOf("http.idempotencyKey", orDefault(options.idempotencyKey, "off"), ["auto", "off"])
      === "auto",
    attemptHeader: typeof attemptHeader === "string" ? attemptHeader.toLowerCase() : undefined,
    buffer: buffer === true,
    bufferRequestBody: options.bufferRequestBody === undefined ? undefined : bufferLimit(options.bufferRequestBody)
  }
}

/** An option's value, or its default when it is left out: `null` is a value (and rejected), not "left out". */
const orDefault = <A>(value: A | undefined, fallback: A): A => value === undefined ? fallback : value

/**
 * Headers an attempt number must not go in: the idempotency key (one per
 * call, the same on every attempt) and those the transport owns for framing
 * and the connection.
 */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "idempotency-key",
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "expect"
])

/** `attemptTimeout`: a finite duration above zero (no limit is said by leaving it out). */
const attemptLimit = (value: unknown): Duration.Duration => {
  const limit = Validate.duration("http.attemptTimeout", value)
  if (!Duration.isFinite(limit) || Duration.toMillis(limit) <= 0) {
    throw Validate.invalid("http.attemptTimeout", value, "a finite duration above 0 (leave it out for no limit)")
  }
  return limit
}

const bufferLimit = (value: unknown): number => {
  const options = Validate.record("http.bufferRequestBody", value)
  Validate.knownKeys("http.bufferRequestBody", options, ["maxBytes"])
  return Validate.integerAtLeast("http.bufferRequestBody.maxBytes", options.maxBytes, 0)
}

/** What every call of one client shares. */
interface ClientParts {
  readonly resolved: Resolved
  readonly sendOnce: (request: ClientRequest.HttpClientRequest) => Effect.Effect<ClientResponse.HttpClientResponse, any, any>
  readonly withAttemptHeader: (request: ClientRequest.HttpClientRequest, retries: number) => ClientRequest.HttpClientRequest
  readonly keyOf: (request: ClientRequest.HttpClientRequest) => string
}

/** Event details of a request, with the status of the failure when it is a response. */
const withStatus = (http: RetryEvent.HttpInfo, error: unknown): RetryEvent.HttpInfo => {
  const status = statusOf(error)
  return status === undefined ? http : { ...http, status }
}

/**
 * One request under the retry runner: its attempts, its event details and
 * cool-down key (each worked out only when asked for: parsing the URL costs
 * more than the success path), and the retryable response it holds between
 * attempts. Its methods live on the prototype, so it replaces the closures a
 * request used to need.
 */
class HttpCall implements Call<ClientResponse.HttpClientResponse, unknown, any> {
  /** A retryable response not handed out yet: released once a retry is decided. */
  private pending: ClientResponse.HttpClientResponse | undefined
  /** The fiber reading and dropping the body of the response a retry replaced. */
  private draining: Fiber.RuntimeFiber<void> | undefined
  private http: RetryEvent.HttpInfo | undefined
  private key: string | undefined

  constructor(
    readonly parts: ClientParts,
    readonly request: ClientRequest.HttpClientRequest,
    readonly method: string
  ) {}

  attempt(retries: number): Effect.Effect<ClientResponse.HttpClientResponse, unknown, any> {
    const { sendOnce, withAttemptHeader } = this.parts
    const send = Effect.matchEffect(sendOnce(withAttemptHeader(this.request, retries)), {
      onFailure: (error) => this.holdFailed(error),
      onSuccess: (response) => this.judge(response)
    })
    // The runner builds a retry before its backoff sleep: whether a drain is
    // still running is known only when the attempt starts.
    return retries === 0 ? send : Effect.zipRight(Effect.suspend(() => this.cutDrain()), send)
  }

  // The retry is decided: the response it replaces will not be handed out, so
  // its body is read and dropped during the backoff sleep, which lets its
  // connection go back to the pool. A child fiber: it ends with the call.
  beforeRetry(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const response = this.pending
      if (response === undefined) return Effect.void
      this.pending = undefined
      return Effect.map(Effect.fork(discard(response, this.parts.resolved.drainLimit)), (fiber) => {
        this.draining = fiber
      })
    })
  }

  // A body still arriving when the next attempt starts is cut (which aborts
  // its connection): it must neither delay the attempt nor hold a connection
  // the attempt needs while the attempt's own time limit runs.
  private cutDrain(): Effect.Effect<void> {
    const draining = this.draining
    this.draining = undefined
    return draining === undefined ? Effect.void : Fiber.interrupt(draining)
  }

  private judge(response: ClientResponse.HttpClientResponse) {
    return Classify.isRetryableResponse(response, this.parts.resolved.statuses)
      ? Effect.flatMap(Clock.currentTimeMillis, (now) => {
        this.pending = response
        const retryAfter = Option.getOrUndefined(Classify.retryAfterOf(response, now))
        return Effect.fail(new RetryableStatus({ response, retryAfter }))
      })
      : Effect.succeed(response)
  }

  // A status a client below made an error (`filterStatusOk`) carries its
  // response: held like a retryable response, so that it is released before
  // the next attempt instead of when the client closes.
  private holdFailed(error: unknown) {
    if (HttpClientError.isHttpClientError(error) && error._tag === "ResponseError" && error.reason === "StatusCode") {
      this.pending = error.response
    }
    return Effect.fail(error)
  }

  shown(error: unknown): unknown {
    return shownInEvents(error)
  }

  describe(error: unknown): RetryEvent.HttpInfo {
    this.http ??= { method: this.method, url: safeUrl(this.request) }
    return withStatus(this.http, error)
  }

  cooldownKey(): string {
    const keyOf = this.parts.keyOf
    return this.key ??= keyOf(this.request)
  }

  // Interrupted (or a defect) while a retryable response waits for its retry
  // (in the backoff sleep): that response will never be handed out, so its
  // connection is released at once, not when the client closes.
  onAbandoned(): Effect.Effect<void> {
    const response = this.pending
    this.pending = undefined
    return Effect.zipRight(this.cutDrain(), response === undefined ? Effect.void : discard(response, RELEASE_LIMIT))
  }
}

/** When retries run out on a retryable status, the last response is returned as it came. */
const recoverResponse = (error: unknown) =>
  error instanceof RetryableStatus ? Effect.succeed(error.response) : Effect.fail(error)

const LOWER_CASE = /[a-z]/

/** A request's method in upper case; the platform's are already, so a copy is made only for one that is not. */
const upperCase = (method: string): string => LOWER_CASE.test(method) ? method.toUpperCase() : method

const needsKey = (method: string) => method === "POST" || method === "PATCH"

/** Whether a request carries an idempotency key: a blank value (an unset variable) is none. */
const hasIdempotencyKey = (request: ClientRequest.HttpClientRequest): boolean =>
  (request.headers["idempotency-key"]?.trim() ?? "") !== ""

/** Media types whose body is a stream of messages: server-sent events, and newline-delimited JSON (Ollama and others). */
const STREAM_TYPES = ["text/event-stream", "application/x-ndjson", "application/jsonl", "application/jsonlines"]

/**
 * Whether a response is a stream of messages, which must reach the caller as
 * it arrives: `buffer` never reads one into memory.
 */
const isMessageStream = (response: ClientResponse.HttpClientResponse): boolean => {
  const type = response.headers["content-type"]?.trimStart().toLowerCase()
  return type !== undefined && STREAM_TYPES.some((stream) => type.startsWith(stream))
}

/** The two stages of a client that `HttpClient.makeWith` builds from. */
interface Stages {
  readonly preprocess: HttpClient.HttpClient.Preprocess<any, any>
  readonly postprocess: (
    request: Effect.Effect<ClientRequest.HttpClientRequest, any, any>
  ) => Effect.Effect<ClientResponse.HttpClientResponse, any, any>
}

// `HttpClient.transform` hands the middleware an effect bound to one request;
// retrying with a per-attempt header needs the inner client's stages, the same
// fields `transform` itself reads.
const stagesOf = (client: HttpClient.HttpClient.With<any, any>): Stages => client as unknown as Stages

/** Whether an effect is a success already made, whose value can be read at once. */
const isSucceeded = <A>(effect: Effect.Effect<A, any, any>): effect is Exit.Success<A, any> =>
  Exit.isExit(effect) && Exit.isSuccess(effect)

/** The fiber a request is checked on, when that step holds it (see `withRetry`'s client). */
type Running = Fiber.RuntimeFiber<any, any> | undefined

/** The body of `HttpRetry.withRetry`. */
export const withRetry = function(this: unknown, ...args: ReadonlyArray<any>): any {
  if (isClient(args[0])) return middleware(args[1], args[2])(args[0])
  return middleware(args[0], args[1])
} as any

const isClient = (u: unknown): u is HttpClient.HttpClient.With<any, any> =>
  typeof u === "object" && u !== null && HttpClient.TypeId in u

/** Checks the options once, when `withRetry` is called (data-last too), and returns the middleware. */
const middleware = (policy: RetryPolicy.RetryPolicy, options: HttpRetry.Options = {}) => {
  if (!RetryPolicy.isRetryPolicy(policy)) {
    throw Validate.invalid("policy", policy, "a RetryPolicy (RetryPolicy.make, RetryPolicy.default, ...)")
  }
  const resolved = resolveOptions(options)
  return <E, R>(self: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<any, R> => {
    const { postprocess, preprocess } = stagesOf(self)
    const extra = options.while
    const isRetryableFailure = (error: unknown) =>
      Classify.isRetryableError(error, resolved.statuses) && (extra === undefined || extra(error))

    // `buffer: true` reads the whole body inside the retry boundary, except a
    // message stream's (it must reach the caller as it arrives) and a retryable
    // response's (it will be released within the drain limit, or handed out
    // as it came): a 503 whose body never ends cannot hold the attempt.
    const bufferUnlessRetryable = (response: ClientResponse.HttpClientResponse) =>
      isMessageStream(response) || Classify.isRetryableResponse(response, resolved.statuses)
        ? Effect.succeed(response)
        : bufferResponse(response)

    const limit = Option.getOrUndefined(resolved.attemptTimeout)
    const sendOnce = (request: ClientRequest.HttpClientRequest) => {
      const sent = postprocess(Effect.succeed(request))
      const read = resolved.buffer ? Effect.flatMap(sent, bufferUnlessRetryable) : sent
      return limit === undefined ? read : Effect.timeoutFail(read, {
        duration: limit,
        onTimeout: () =>
          new HttpClientError.RequestError({
            request: withoutUserinfo(request),
            reason: "Transport",
            cause: new TimeoutException(`attempt timed out after ${Duration.format(limit)}`),
            description: `attempt timed out after ${Duration.format(limit)} (attemptTimeout)`
          })
      })
    }

    const retryRequest = (request: ClientRequest.HttpClientRequest, method: string, fiber: Running) => {
      const retryable = resolved.methods.has(method) ||
        (needsKey(method) && hasIdempotencyKey(request))
      if (!retryable) return sendOnce(request)
      if (RequestBody.isReplayable(request.body)) return retryLoop(request, method, fiber)
      const limit = resolved.bufferRequestBody
      return limit !== undefined && RequestBody.mayBuffer(request.body, limit)
        ? Effect.flatMap(RequestBody.bufferBody(request, request.body, limit), (buffered) => retryLoop(buffered, method, undefined))
        : sendUnreplayable(request, method)
    }

    // A body that cannot be sent again: one attempt, and the outcome as it came.
    // When that outcome would have been retried, the call's events say why it was not.
    const sendUnreplayable = (request: ClientRequest.HttpClientRequest, method: string) => {
      const gaveUp = (error: unknown) =>
        report(
          RetryEvent.GaveUp({
            attempts: 1,
            error: shownInEvents(error),
            reason: "body-not-replayable",
            name: policy.name,
            http: withStatus({ method, url: safeUrl(request) }, error)
          }),
          options.onEvent
        )
      return Effect.matchEffect(sendOnce(withAttemptHeader(request, 0)), {
        onFailure: (error) => isRetryableFailure(error) ? Effect.zipRight(gaveUp(error), Effect.fail(error)) : Effect.fail(error),
        onSuccess: (response) => {
          if (!Classify.isRetryableResponse(response, resolved.statuses)) return Effect.succeed(response)
          return Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const error = new RetryableStatus({
              response,
              retryAfter: Option.getOrUndefined(Classify.retryAfterOf(response, now))
            })
            return extra === undefined || extra(error) ? Effect.as(gaveUp(error), response) : Effect.succeed(response)
          })
        }
      })
    }

    const withAttemptHeader = (request: ClientRequest.HttpClientRequest, retries: number) =>
      resolved.attemptHeader === undefined
        ? request
        : ClientRequest.setHeader(request, resolved.attemptHeader, String(retries))

    const parts: ClientParts = { resolved, sendOnce, withAttemptHeader, keyOf: options.cooldownKey ?? originOf }
    const runner = makeRunner<ClientResponse.HttpClientResponse, unknown>(policy, {
      isRetryable: isRetryableFailure,
      onEvent: options.onEvent,
      hint: Classify.hintOf,
      budget: options.budget,
      recover: recoverResponse,
      cooldown: resolved.cooldown === "off" ? undefined : { firstAttempts: resolved.cooldown === "all" }
    })
    const retryLoop = (request: ClientRequest.HttpClientRequest, method: string, fiber: Running) =>
      fiber === undefined
        ? runner.run(new HttpCall(parts, request, method))
        : runner.runIn(fiber, new HttpCall(parts, request, method))

    const needsNewKey = (request: ClientRequest.HttpClientRequest, method: string) =>
      resolved.idempotencyKey && needsKey(method) && !hasIdempotencyKey(request)

    const checked = (request: ClientRequest.HttpClientRequest, fiber: Running) => {
      const unsupported = unsupportedUrl(request)
      if (unsupported !== undefined) return Effect.fail(unsupported)
      const problems = invalidHeaders(request.headers)
      if (problems.length === 0) {
        const method = upperCase(request.method)
        return needsNewKey(request, method)
          ? Effect.flatMap(
            randomUuid,
            (key) => retryRequest(ClientRequest.setHeader(request, "idempotency-key", key), method, undefined)
          )
          : retryRequest(request, method, fiber)
      }
      // The error keeps the request, but none of the rejected values or names: they may be secrets and errors get logged.
      const redacted = withoutInvalidHeaders(withoutUserinfo(request), problems)
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more invalid header${problems.length > 2 ? "s" : ""})` : ""
      return Effect.fail(
        new HttpClientError.RequestError({ request: redacted, reason: "Encode", description: problems[0]!.description + more })
      )
    }

    // A request that is already there (the usual `Effect.succeed` of a
    // client's first stage) is checked in the step that reads the fiber's
    // context for the runner, instead of in a step of its own before it.
    return HttpClient.makeWith(
      (request: Effect.Effect<ClientRequest.HttpClientRequest, any, any>) =>
        isSucceeded(request)
          ? Effect.withFiberRuntime((fiber) => checked(request.value, fiber))
          : Effect.flatMap(request, (value) => checked(value, undefined)),
      preprocess
    )
  }
}
