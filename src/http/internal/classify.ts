import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as ClientResponse from "@effect/platform/HttpClientResponse"
import { isTimeoutException } from "effect/Cause"
import type * as Duration from "effect/Duration"
import type * as Option from "effect/Option"
import * as RetryAfter from "../../RetryAfter.js"
import * as Retryable from "../../Retryable.js"

const TRANSPORT_CODES = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_ABORTED",
  "ERR_STREAM_PREMATURE_CLOSE"
])

const MAX_CAUSE_DEPTH = 5

/**
 * Whether an error (or one of its causes) is a lost connection rather than bad
 * data: node:http's `aborted` (ECONNRESET), undici's `SocketError`
 * (UND_ERR_SOCKET) and fetch's `TypeError("terminated")` all qualify; a
 * `SyntaxError` from JSON parsing does not.
 */
export const isConnectionLoss = (cause: unknown): boolean =>
  inCauseChain(cause, ({ code, message, name }) =>
    (typeof code === "string" && TRANSPORT_CODES.has(code)) || name === "SocketError" ||
    (name === "TypeError" && message === "terminated"))

interface ErrorFields {
  readonly code?: unknown
  readonly name?: unknown
  readonly message?: unknown
}

/** Whether an error or one of its first causes (`error.cause`, and so on) matches. */
const inCauseChain = (cause: unknown, matches: (error: ErrorFields) => boolean): boolean => {
  let current = cause
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === "object" && current !== null; depth++) {
    if (matches(current as ErrorFields)) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

// undici's errors for a request it will not send (a header it does not
// support, a malformed one); fetch on Node carries them as the cause of its
// "fetch failed".
const REFUSED_CODES = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"])

// The Fetch standard forbids a URL with userinfo in a Request; Node says so in this message.
const CREDENTIALS_REFUSED = "Request cannot be constructed from a URL that includes credentials"

/**
 * Whether a transport error is the client refusing to send the request at
 * all (nothing reached the network), which a retry would only repeat.
 */
export const isRefusedLocally = (cause: unknown): boolean =>
  inCauseChain(cause, ({ code, message }) =>
    (typeof code === "string" && REFUSED_CODES.has(code)) ||
    (typeof message === "string" && message.startsWith(CREDENTIALS_REFUSED)))

/**
 * The server's explicit word on retrying, from `x-should-retry`. Sent twice,
 * it arrives joined with ", " from undici and fetch: it counts when every
 * value says the same.
 */
export const serverSays = (response: ClientResponse.HttpClientResponse): boolean | undefined => {
  const value = response.headers["x-should-retry"]
  if (value === undefined) return undefined
  let says: boolean | undefined
  for (const member of value.split(",")) {
    const word = member.trim().toLowerCase()
    const one = word === "true" ? true : word === "false" ? false : undefined
    if (one === undefined || (says !== undefined && one !== says)) return undefined
    says = one
  }
  return says
}

/**
 * Whether a response asks to be retried: `x-should-retry` first, then the
 * status. A response below 400 is never retried, and its headers are not read
 * (on some clients each read of `headers` builds a new object).
 */
export const isRetryableResponse = (
  response: ClientResponse.HttpClientResponse,
  statuses: ReadonlySet<number>
): boolean => response.status >= 400 && (serverSays(response) ?? statuses.has(response.status))

/**
 * The delay a response asks for. Rate-limit reset headers count only on a
 * 429: many APIs send them on every response, where they tell when a quota
 * window resets, not when to retry.
 */
export const retryAfterOf = (
  response: ClientResponse.HttpClientResponse,
  now: number
): Option.Option<Duration.Duration> =>
  response.status === 429
    ? RetryAfter.fromHeaders(response.headers, now)
    : RetryAfter.fromRetryAfterHeaders(response.headers, now)

/** The Retry-After hint of a failure: from a response the failure carries, or the `Retryable` protocol. */
export const hintOf = (error: unknown, now: number): Option.Option<Duration.Duration> =>
  HttpClientError.isHttpClientError(error) && error._tag === "ResponseError" && error.reason === "StatusCode"
    ? retryAfterOf(error.response, now)
    : Retryable.retryAfter(error)

/** The HTTP classification of a failure. */
export const isRetryableError = (error: unknown, statuses: ReadonlySet<number>): boolean => {
  if (HttpClientError.isHttpClientError(error)) {
    switch (error._tag) {
      case "RequestError":
        return error.reason === "Transport" && !isRefusedLocally(error.cause)
      case "ResponseError":
        switch (error.reason) {
          case "StatusCode":
            return isRetryableResponse(error.response, statuses)
          case "Decode":
            return isConnectionLoss(error.cause)
          case "EmptyBody":
            return false
        }
    }
  }
  return isTimeoutException(error) || Retryable.isRetryable(error)
}
