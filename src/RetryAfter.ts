/**
 * Reading "how long should I wait?" hints from HTTP responses.
 *
 * Supports the standard `Retry-After` header (RFC 9110 section 10.2.3) and
 * the common vendor and draft headers that carry the same information.
 * Every function is pure: the current time is always passed in explicitly as
 * epoch milliseconds, so results are deterministic and easy to test.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Option from "effect/Option"
import * as internal from "./internal/retryAfter.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Anything with a web `Headers`-style `get` method, such as `Headers` from the
 * Fetch API. The lookup is expected to be case-insensitive.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * import { RetryAfter } from "effect-retry"
 *
 * const headers: RetryAfter.HeadersGetter = new Headers({ "retry-after": "5" })
 * ```
 */
export interface HeadersGetter {
  get(name: string): string | null
}

/**
 * The header collections accepted by {@link fromHeaders}: either a plain
 * record (as produced by Node.js or `@effect/platform`), whose keys are
 * matched case-insensitively and whose array values contribute their first
 * element, or a web `Headers`-like object.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * import { RetryAfter } from "effect-retry"
 *
 * const fromRecord: RetryAfter.HeadersInput = { "Retry-After": "5" }
 * const fromArray: RetryAfter.HeadersInput = { "retry-after": ["5", "10"] }
 * const fromWeb: RetryAfter.HeadersInput = new Headers({ "retry-after": "5" })
 * ```
 */
export type HeadersInput =
  | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  | HeadersGetter

// -----------------------------------------------------------------------------
// parsing
// -----------------------------------------------------------------------------

/**
 * Parses a `Retry-After` delay-seconds value: a non-negative number of
 * seconds, optionally with a decimal fraction and surrounding whitespace.
 * Signs, exponents, hexadecimal and bare dots are rejected.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryAfter } from "effect-retry"
 *
 * RetryAfter.parseDelaySeconds("1.5").pipe(Option.map(Duration.toMillis)) // Option.some(1500)
 * RetryAfter.parseDelaySeconds("-1") // Option.none()
 * ```
 */
export const parseDelaySeconds: (value: string) => Option.Option<Duration.Duration> = internal.parseDelaySeconds

/**
 * Parses a non-negative number of milliseconds, optionally with a decimal
 * fraction, as sent in the `retry-after-ms` header.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryAfter } from "effect-retry"
 *
 * RetryAfter.parseMillis("250").pipe(Option.map(Duration.toMillis)) // Option.some(250)
 * RetryAfter.parseMillis("1e3") // Option.none()
 * ```
 */
export const parseMillis: (value: string) => Option.Option<Duration.Duration> = internal.parseMillis

/**
 * Parses a duration in the format produced by Go's `time.Duration.String`,
 * such as `"6m0s"`, `"1h2m3.5s"` or `"20ms"` (used by the
 * `x-ratelimit-reset-*` headers). Units are `h`, `m`, `s`, `ms`, `us` (or
 * `µs`) and `ns`; every number may have a fraction. At least one unit is
 * required and signs are rejected.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryAfter } from "effect-retry"
 *
 * RetryAfter.parseGoDuration("1m30s").pipe(Option.map(Duration.toMillis)) // Option.some(90000)
 * RetryAfter.parseGoDuration("1.5s").pipe(Option.map(Duration.toMillis)) // Option.some(1500)
 * RetryAfter.parseGoDuration("90") // Option.none()
 * ```
 */
export const parseGoDuration: (value: string) => Option.Option<Duration.Duration> = internal.parseGoDuration

/**
 * Parses an HTTP-date (RFC 9110 section 5.6.7) into epoch milliseconds.
 * Accepts the preferred IMF-fixdate form and the two obsolete forms (RFC 850
 * and asctime), all read as GMT. Names are case-sensitive and impossible
 * dates or times (such as 31 Feb, or a second 60 other than the leap second
 * 23:59:60) are rejected. `now` (epoch milliseconds) is only used to resolve
 * the two-digit year of RFC 850 dates: a date more than 50 years after `now`
 * means the previous century.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * ```ts
 * import { RetryAfter } from "effect-retry"
 *
 * const now = Date.UTC(2026, 0, 1)
 * RetryAfter.parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", now) // Option.some(784111777000)
 * RetryAfter.parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now) // Option.some(784111777000)
 * RetryAfter.parseHttpDate("Sun Nov  6 08:49:37 1994", now) // Option.some(784111777000)
 * RetryAfter.parseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT", now) // Option.none()
 * ```
 */
export const parseHttpDate: (value: string, now: number) => Option.Option<number> = internal.parseHttpDate

/**
 * Parses a `Retry-After` value (RFC 9110 section 10.2.3): either a number of
 * seconds (see {@link parseDelaySeconds}) or an HTTP-date (see
 * {@link parseHttpDate}), which is turned into the time left until that date
 * as seen from `now` (epoch milliseconds). Dates in the past give
 * `Duration.zero`. Anything else gives `Option.none()`.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryAfter } from "effect-retry"
 *
 * const now = Date.UTC(2026, 0, 1, 12, 0, 0)
 *
 * RetryAfter.parse("120", now).pipe(Option.map(Duration.toMillis)) // Option.some(120000)
 * RetryAfter.parse("Thu, 01 Jan 2026 12:00:30 GMT", now).pipe(Option.map(Duration.toMillis)) // Option.some(30000)
 * RetryAfter.parse("soon", now) // Option.none()
 * ```
 */
export const parse: (value: string, now: number) => Option.Option<Duration.Duration> = internal.parse

/**
 * Parses an RFC 3339 timestamp such as `2024-05-01T12:00:30Z` or
 * `2024-05-01T14:00:30.250+02:00` into epoch milliseconds. Fractional
 * seconds are truncated to millisecond precision. Impossible dates and times
 * are rejected; a leap second (23:59:60) reads as the next day's first instant.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * ```ts
 * import { RetryAfter } from "effect-retry"
 *
 * RetryAfter.parseRfc3339("2024-05-01T12:00:30Z") // Option.some(1714564830000)
 * RetryAfter.parseRfc3339("2024-05-01T14:00:30.5+02:00") // Option.some(1714564830500)
 * RetryAfter.parseRfc3339("2024-02-30T00:00:00Z") // Option.none()
 * ```
 */
export const parseRfc3339: (value: string) => Option.Option<number> = internal.parseRfc3339

/**
 * Parses the IETF `RateLimit` structured field
 * (draft-ietf-httpapi-ratelimit-headers), such as `"default";r=50;t=30`, and
 * returns the `t` (reset) parameter as a duration in seconds. When several
 * policies are listed, the latest reset among the exhausted ones (`r=0`)
 * wins, since all of them must reset before a request can succeed; if none
 * is exhausted, the latest reset of all.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryAfter } from "effect-retry"
 *
 * RetryAfter.parseRateLimit(`"default";r=50;t=30`).pipe(Option.map(Duration.toMillis)) // Option.some(30000)
 * RetryAfter.parseRateLimit(`"a";r=5;t=10, "b";r=0;t=6`).pipe(Option.map(Duration.toMillis)) // Option.some(6000)
 * RetryAfter.parseRateLimit(`"default";r=50`) // Option.none()
 * ```
 */
export const parseRateLimit: (value: string) => Option.Option<Duration.Duration> = internal.parseRateLimit

/**
 * Finds how long to wait before retrying, from response headers. Header
 * names are matched case-insensitively; invalid values are skipped.
 *
 * 1. `retry-after-ms` (milliseconds, see {@link parseMillis}), then
 *    `retry-after` (seconds or an HTTP-date, see {@link parse}): the first
 *    valid one wins over everything below.
 * 2. Otherwise the rate-limit budgets: the IETF `ratelimit` field's policies
 *    (see {@link parseRateLimit}); `ratelimit-reset` and `x-ratelimit-reset`
 *    (seconds, or epoch seconds from 1e9 up); OpenAI's
 *    `x-ratelimit-reset-requests` and `-tokens` (Go durations, see
 *    {@link parseGoDuration}); Anthropic's `anthropic-ratelimit-*-reset`
 *    (RFC 3339, see {@link parseRfc3339}). Each budget's `*-remaining` header
 *    (`x-ratelimit-remaining-tokens`, `anthropic-ratelimit-requests-remaining`,
 *    `r=` in `ratelimit`...) says whether it ran out. The hint is the latest
 *    reset among the budgets with 0 remaining; when none says so, the latest
 *    reset among all of them.
 *
 * Times are measured from `now` (epoch milliseconds) and times in the past
 * give `Duration.zero`. It reads each header once, in time linear in their
 * number, and never throws.
 *
 * @since 0.1.0
 * @category headers
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { RetryAfter } from "effect-retry"
 *
 * const now = Date.UTC(2024, 4, 1, 12, 0, 0)
 *
 * RetryAfter.fromHeaders({ "Retry-After": "2" }, now).pipe(Option.map(Duration.toMillis)) // Option.some(2000)
 * // OpenAI: the tokens budget ran out, so its reset counts, not the requests budget's
 * RetryAfter.fromHeaders(new Headers({
 *   "x-ratelimit-remaining-requests": "499",
 *   "x-ratelimit-reset-requests": "12ms",
 *   "x-ratelimit-remaining-tokens": "0",
 *   "x-ratelimit-reset-tokens": "1.2s"
 * }), now).pipe(Option.map(Duration.toMillis)) // Option.some(1200)
 * RetryAfter.fromHeaders({ "anthropic-ratelimit-requests-reset": "2024-05-01T12:00:30Z" }, now).pipe(
 *   Option.map(Duration.toMillis)
 * ) // Option.some(30000)
 * RetryAfter.fromHeaders({}, now) // Option.none()
 * ```
 */
export const fromHeaders: (headers: HeadersInput, now: number) => Option.Option<Duration.Duration> = internal.fromHeaders

/**
 * Like `fromHeaders`, but reads only `retry-after-ms` and `retry-after`: the
 * headers that say when to retry. Rate-limit reset headers are sent on every
 * response by many APIs and tell when a quota window resets, which is a
 * retry time only for a 429; use this for other statuses.
 *
 * @since 0.1.0
 * @category headers
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RetryAfter } from "effect-retry"
 *
 * const now = Date.UTC(2024, 4, 1, 12, 0, 0)
 *
 * RetryAfter.fromRetryAfterHeaders({ "x-ratelimit-reset": "30" }, now) // Option.none()
 * RetryAfter.fromRetryAfterHeaders({ "retry-after": "3" }, now).pipe(Option.isSome) // true
 * ```
 */
export const fromRetryAfterHeaders: (headers: HeadersInput, now: number) => Option.Option<Duration.Duration> = internal.fromRetryAfterHeaders
