import * as Arr from "effect/Array"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { HeadersGetter, HeadersInput } from "../RetryAfter.js"

// The bodies of `RetryAfter`: the parsers of each header's grammar and the
// choice among a response's headers.

// -----------------------------------------------------------------------------
// numbers
// -----------------------------------------------------------------------------

const NANOS_PER_MICRO = BigInt(1_000)
const NANOS_PER_MILLI = BigInt(1_000_000)
const NANOS_PER_SECOND = BigInt(1_000_000_000)
const NANOS_PER_MINUTE = BigInt(60) * NANOS_PER_SECOND
const NANOS_PER_HOUR = BigInt(60) * NANOS_PER_MINUTE
const EPOCH_SECONDS_THRESHOLD = BigInt(1_000_000_000) * NANOS_PER_SECOND
const MAX_SAFE_MILLIS = BigInt(Number.MAX_SAFE_INTEGER)

/** Unsigned decimal number: digits with an optional fraction, no sign or exponent. */
const DECIMAL = /^\d+(?:\.\d+)?$/

const isOws = (char: string | undefined): boolean => char === " " || char === "\t"

/** Removes optional whitespace (spaces and tabs) around a field value. */
const trimOws = (value: string): string => {
  let start = 0
  let end = value.length
  while (start < end && isOws(value[start])) start++
  while (end > start && isOws(value[end - 1])) end--
  return value.slice(start, end)
}

/**
 * Converts an unsigned decimal string, counted in units of `unit` nanoseconds,
 * to nanoseconds. Exact (no floating point); digits below one nanosecond are
 * truncated.
 */
const decimalToNanos = (decimal: string, unit: bigint): bigint => {
  const [integer = "", fraction = ""] = decimal.split(".")
  return (BigInt(integer + fraction) * unit) / BigInt(10) ** BigInt(fraction.length)
}

/** Builds a `Duration`, preferring the millisecond representation when it is exact. */
const durationFromNanos = (nanos: bigint): Duration.Duration => {
  const millis = nanos / NANOS_PER_MILLI
  return nanos % NANOS_PER_MILLI === BigInt(0) && millis <= MAX_SAFE_MILLIS
    ? Duration.millis(Number(millis))
    : Duration.nanos(nanos)
}

const parseDecimal = (value: string, unit: bigint): Option.Option<Duration.Duration> => {
  const trimmed = trimOws(value)
  return DECIMAL.test(trimmed) ? Option.some(durationFromNanos(decimalToNanos(trimmed, unit))) : Option.none()
}

/** The time left until `epochMillis`, or zero if it has already passed. */
const until = (epochMillis: number, now: number): Duration.Duration =>
  Duration.millis(Math.max(0, epochMillis - now))

/** The body of `RetryAfter.parseDelaySeconds`. */
export const parseDelaySeconds = (value: string): Option.Option<Duration.Duration> =>
  parseDecimal(value, NANOS_PER_SECOND)

/** The body of `RetryAfter.parseMillis`. */
export const parseMillis = (value: string): Option.Option<Duration.Duration> => parseDecimal(value, NANOS_PER_MILLI)

// -----------------------------------------------------------------------------
// Go durations
// -----------------------------------------------------------------------------

/** One `<number><unit>` component. `ms` is listed before `m` so that it wins. */
const GO_DURATION_COMPONENT = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|\u03bcs|ms|h|m|s)/y

const GO_DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: BigInt(1),
  us: NANOS_PER_MICRO,
  "\u00b5s": NANOS_PER_MICRO, // MICRO SIGN
  "\u03bcs": NANOS_PER_MICRO, // GREEK SMALL LETTER MU
  ms: NANOS_PER_MILLI,
  s: NANOS_PER_SECOND,
  m: NANOS_PER_MINUTE,
  h: NANOS_PER_HOUR
}

/** The body of `RetryAfter.parseGoDuration`. */
export const parseGoDuration = (value: string): Option.Option<Duration.Duration> => {
  const input = trimOws(value)
  let nanos = BigInt(0)
  let position = 0
  while (position < input.length) {
    GO_DURATION_COMPONENT.lastIndex = position
    const match = GO_DURATION_COMPONENT.exec(input)
    const unit = GO_DURATION_UNITS[match?.[2] ?? ""]
    if (match === null || unit === undefined) {
      return Option.none()
    }
    nanos += decimalToNanos(match[1] ?? "", unit)
    position = GO_DURATION_COMPONENT.lastIndex
  }
  return position === 0 ? Option.none() : Option.some(durationFromNanos(nanos))
}

// -----------------------------------------------------------------------------
// calendar
// -----------------------------------------------------------------------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
const DAY_NAMES_LONG = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

/** Length of one Gregorian 400-year cycle, which repeats the calendar exactly. */
const GREGORIAN_CYCLE_YEARS = 400
const GREGORIAN_CYCLE_MILLIS = 146_097 * 86_400_000

interface DateTime {
  readonly year: number
  /** 1-12 */
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

/**
 * Converts UTC calendar fields to epoch milliseconds, rejecting anything that
 * `Date.UTC` would silently normalize (31 Feb, hour 24, minute 60, ...) by
 * checking that the fields survive a round trip. A leap second is accepted
 * where one can occur, at 23:59:60 (RFC 9110's `second` is 00-60, RFC 3339's
 * too), and read as the first instant of the next day, since epoch time has
 * no leap seconds.
 */
const toEpochMillis = (fields: DateTime): Option.Option<number> => {
  const leap = fields.second === 60 && fields.hour === 23 && fields.minute === 59
  const second = leap ? 59 : fields.second
  // `Date.UTC` maps the years 0-99 to 1900-1999; computing one full cycle
  // later sidesteps that without changing the month lengths or leap days.
  const year = fields.year + GREGORIAN_CYCLE_YEARS
  const millis = Date.UTC(year, fields.month - 1, fields.day, fields.hour, fields.minute, second)
  const date = new Date(millis)
  const valid = date.getUTCFullYear() === year &&
    date.getUTCMonth() === fields.month - 1 &&
    date.getUTCDate() === fields.day &&
    date.getUTCHours() === fields.hour &&
    date.getUTCMinutes() === fields.minute &&
    date.getUTCSeconds() === second
  return valid ? Option.some(millis - GREGORIAN_CYCLE_MILLIS + (leap ? 1000 : 0)) : Option.none()
}

const group = (match: RegExpExecArray, index: number): string => match[index] ?? ""

const monthNumber = (name: string): number => MONTHS.indexOf(name) + 1

/** Hour, minute and second from three groups of a match in a row, the first at `first` (see `TIME_OF_DAY`). */
const timeOfDay = (match: RegExpExecArray, first: number): Pick<DateTime, "hour" | "minute" | "second"> => ({
  hour: Number(group(match, first)),
  minute: Number(group(match, first + 1)),
  second: Number(group(match, first + 2))
})

const alternatives = (names: ReadonlyArray<string>): string => `(?:${names.join("|")})`

// -----------------------------------------------------------------------------
// HTTP dates
// -----------------------------------------------------------------------------

// The day name must be one of the valid names, but it is deliberately not
// checked against the date: servers get it wrong and the date is what counts.
const TIME_OF_DAY = "(\\d{2}):(\\d{2}):(\\d{2})"

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(
  `^${alternatives(DAY_NAMES)}, (\\d{2}) (${MONTHS.join("|")}) (\\d{4}) ${TIME_OF_DAY} GMT$`
)

/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC850_DATE = new RegExp(
  `^${alternatives(DAY_NAMES_LONG)}, (\\d{2})-(${MONTHS.join("|")})-(\\d{2}) ${TIME_OF_DAY} GMT$`
)

/** `Sun Nov  6 08:49:37 1994` (the day of the month may be space-padded) */
const ASCTIME_DATE = new RegExp(
  `^${alternatives(DAY_NAMES)} (${MONTHS.join("|")}) (\\d{2}| \\d) ${TIME_OF_DAY} (\\d{4})$`
)

/**
 * The instant 50 years after `now`, on the same calendar date and time: an
 * RFC 850 date later than that means the previous century (RFC 9110 section
 * 5.6.7 compares dates, not years).
 */
const fiftyYearsAfter = (now: number): number => {
  const date = new Date(now)
  date.setUTCFullYear(date.getUTCFullYear() + 50)
  return date.getTime()
}

const parseImfFixdate = (value: string): Option.Option<number> => {
  const match = IMF_FIXDATE.exec(value)
  return match === null ? Option.none() : toEpochMillis({
    year: Number(group(match, 3)),
    month: monthNumber(group(match, 2)),
    day: Number(group(match, 1)),
    ...timeOfDay(match, 4)
  })
}

/**
 * Reads an RFC 850 date: the two-digit year is taken in the century of `now`,
 * unless the whole date is then more than 50 years after `now`, in which case
 * the previous century's.
 */
const parseRfc850Date = (value: string, now: number): Option.Option<number> => {
  const match = RFC850_DATE.exec(value)
  if (match === null) return Option.none()
  const currentYear = new Date(now).getUTCFullYear()
  const fields = (year: number): DateTime => ({
    year,
    month: monthNumber(group(match, 2)),
    day: Number(group(match, 1)),
    ...timeOfDay(match, 4)
  })
  const year = currentYear - (currentYear % 100) + Number(group(match, 3))
  const limit = fiftyYearsAfter(now)
  return Option.flatMap(
    toEpochMillis(fields(year)),
    (millis) => millis > limit ? toEpochMillis(fields(year - 100)) : Option.some(millis)
  )
}

const parseAsctimeDate = (value: string): Option.Option<number> => {
  const match = ASCTIME_DATE.exec(value)
  return match === null ? Option.none() : toEpochMillis({
    year: Number(group(match, 6)),
    month: monthNumber(group(match, 1)),
    day: Number(group(match, 2).trim()),
    ...timeOfDay(match, 3)
  })
}

/** The body of `RetryAfter.parseHttpDate`. */
export const parseHttpDate = (value: string, now: number): Option.Option<number> => {
  const trimmed = trimOws(value)
  return parseImfFixdate(trimmed).pipe(
    Option.orElse(() => parseRfc850Date(trimmed, now)),
    Option.orElse(() => parseAsctimeDate(trimmed))
  )
}

/** The body of `RetryAfter.parse`. */
export const parse = (value: string, now: number): Option.Option<Duration.Duration> =>
  parseDelaySeconds(value).pipe(
    Option.orElse(() => Option.map(parseHttpDate(value, now), (date) => until(date, now)))
  )

// -----------------------------------------------------------------------------
// RFC 3339 timestamps
// -----------------------------------------------------------------------------

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/

/** The body of `RetryAfter.parseRfc3339`. */
export const parseRfc3339 = (value: string): Option.Option<number> => {
  const match = RFC3339.exec(trimOws(value))
  if (match === null) {
    return Option.none()
  }
  const offsetHours = Number(group(match, 9))
  const offsetMinutes = Number(group(match, 10))
  if (offsetHours > 23 || offsetMinutes > 59) {
    return Option.none()
  }
  const offsetMillis = (group(match, 8) === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  const fractionMillis = Number(group(match, 7).slice(0, 3).padEnd(3, "0"))
  return Option.map(
    toEpochMillis({
      year: Number(group(match, 1)),
      month: Number(group(match, 2)),
      day: Number(group(match, 3)),
      ...timeOfDay(match, 4)
    }),
    (local) => local - offsetMillis + fractionMillis
  )
}

// -----------------------------------------------------------------------------
// IETF RateLimit structured field
// -----------------------------------------------------------------------------

/**
 * A structured field (RFC 9651) bare item, reduced to what matters here:
 * integers keep their value, every other kind of item is opaque.
 */
type BareItem =
  | { readonly _tag: "Integer"; readonly value: number }
  | { readonly _tag: "Other" }

interface Member {
  readonly isItem: boolean
  readonly parameters: ReadonlyMap<string, BareItem>
}

interface Cursor {
  readonly input: string
  position: number
}

const OTHER: BareItem = { _tag: "Other" }

const SF_INTEGER = /-?\d{1,15}(?![\d.])/y
const SF_OTHER_ITEMS: ReadonlyArray<RegExp> = [
  /-?\d{1,12}\.\d{1,3}(?!\d)/y, // decimal
  /"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"/y, // string
  /[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:\/]*/y, // token
  /:[A-Za-z0-9+\/=]*:/y, // byte sequence
  /\?[01]/y, // boolean
  /@-?\d{1,15}(?![\d.])/y // date
]
const SF_KEY = /[a-z*][a-z0-9_\-.*]*/y

/** Consumes `pattern` (a sticky regex) at the cursor, if it matches there. */
const take = (cursor: Cursor, pattern: RegExp): string | undefined => {
  pattern.lastIndex = cursor.position
  const match = pattern.exec(cursor.input)
  if (match === null) {
    return undefined
  }
  cursor.position = pattern.lastIndex
  return match[0]
}

const peek = (cursor: Cursor): string | undefined => cursor.input[cursor.position]

const skipSpaces = (cursor: Cursor): void => {
  while (peek(cursor) === " ") cursor.position++
}

const skipOws = (cursor: Cursor): void => {
  while (isOws(peek(cursor))) cursor.position++
}

const parseBareItem = (cursor: Cursor): BareItem | undefined => {
  const integer = take(cursor, SF_INTEGER)
  if (integer !== undefined) {
    return { _tag: "Integer", value: Number(integer) }
  }
  return SF_OTHER_ITEMS.some((pattern) => take(cursor, pattern) !== undefined) ? OTHER : undefined
}

const parseParameters = (cursor: Cursor): Map<string, BareItem> | undefined => {
  const parameters = new Map<string, BareItem>()
  while (peek(cursor) === ";") {
    cursor.position++
    skipSpaces(cursor)
    const key = take(cursor, SF_KEY)
    if (key === undefined) {
      return undefined
    }
    let value: BareItem | undefined = OTHER // a key without a value is boolean true
    if (peek(cursor) === "=") {
      cursor.position++
      value = parseBareItem(cursor)
    }
    if (value === undefined) {
      return undefined
    }
    parameters.set(key, value)
  }
  return parameters
}

const parseItem = (cursor: Cursor): Member | undefined => {
  const item = parseBareItem(cursor)
  const parameters = item === undefined ? undefined : parseParameters(cursor)
  return parameters === undefined ? undefined : { isItem: true, parameters }
}

const parseInnerList = (cursor: Cursor): Member | undefined => {
  cursor.position++ // "("
  for (;;) {
    skipSpaces(cursor)
    if (peek(cursor) === ")") {
      cursor.position++
      const parameters = parseParameters(cursor)
      return parameters === undefined ? undefined : { isItem: false, parameters }
    }
    if (parseItem(cursor) === undefined) {
      return undefined
    }
    const next = peek(cursor)
    if (next !== " " && next !== ")") {
      return undefined
    }
  }
}

/** Parses a structured field List, or returns `undefined` on any syntax error. */
const parseList = (input: string): ReadonlyArray<Member> | undefined => {
  const cursor: Cursor = { input: trimOws(input), position: 0 }
  const members: Array<Member> = []
  while (cursor.position < cursor.input.length) {
    const member = peek(cursor) === "(" ? parseInnerList(cursor) : parseItem(cursor)
    if (member === undefined) {
      return undefined
    }
    members.push(member)
    skipOws(cursor)
    if (cursor.position === cursor.input.length) {
      break
    }
    if (peek(cursor) !== ",") {
      return undefined
    }
    cursor.position++
    skipOws(cursor)
    if (cursor.position === cursor.input.length) {
      return undefined // trailing comma
    }
  }
  return members
}

const integerParameter = (member: Member, key: string): Option.Option<number> => {
  const item = member.parameters.get(key)
  return item !== undefined && item._tag === "Integer" ? Option.some(item.value) : Option.none()
}

/**
 * A rate-limit budget, as the headers describe it: when it resets, and how
 * much of it is left when they say so.
 */
interface Budget {
  readonly reset: Duration.Duration
  readonly remaining: number | undefined
}

const isExhausted = (budget: Budget): boolean => budget.remaining !== undefined && budget.remaining <= 0

/**
 * The reset to wait for: the latest among the exhausted budgets (all of them
 * must reset before a request can pass), or, when none says it is exhausted,
 * the latest among all. One pass, no spread: safe for any number of budgets.
 */
const resetToWaitFor = (budgets: Iterable<Budget>): Option.Option<Duration.Duration> => {
  let latest: Duration.Duration | undefined
  let latestExhausted: Duration.Duration | undefined
  for (const budget of budgets) {
    if (latest === undefined || Duration.greaterThan(budget.reset, latest)) latest = budget.reset
    if (isExhausted(budget) && (latestExhausted === undefined || Duration.greaterThan(budget.reset, latestExhausted))) {
      latestExhausted = budget.reset
    }
  }
  return Option.fromNullable(latestExhausted ?? latest)
}

/** The policies of a `RateLimit` field that have a valid `t`, as budgets. */
const rateLimitBudgets = (value: string): Array<Budget> => {
  const members = parseList(value)
  const budgets: Array<Budget> = []
  if (members === undefined) return budgets
  for (const member of members) {
    if (!member.isItem) continue
    const reset = integerParameter(member, "t")
    if (Option.isNone(reset) || reset.value < 0) continue
    budgets.push({ reset: Duration.seconds(reset.value), remaining: Option.getOrUndefined(integerParameter(member, "r")) })
  }
  return budgets
}

/** The body of `RetryAfter.parseRateLimit`. */
export const parseRateLimit = (value: string): Option.Option<Duration.Duration> =>
  resetToWaitFor(rateLimitBudgets(value))

// -----------------------------------------------------------------------------
// headers
// -----------------------------------------------------------------------------

/**
 * `ratelimit-reset` style values: seconds, or epoch seconds once the number
 * is at least 1e9 (which as a delay would be more than 31 years).
 */
const parseResetSeconds = (value: string, now: number): Option.Option<Duration.Duration> => {
  const trimmed = trimOws(value)
  if (!DECIMAL.test(trimmed)) {
    return Option.none()
  }
  const nanos = decimalToNanos(trimmed, NANOS_PER_SECOND)
  return Option.some(
    nanos >= EPOCH_SECONDS_THRESHOLD
      ? until(Number(nanos / NANOS_PER_MILLI), now)
      : durationFromNanos(nanos)
  )
}

const parseTimestamp = (value: string, now: number): Option.Option<Duration.Duration> =>
  Option.map(parseRfc3339(value), (timestamp) => until(timestamp, now))

/** Case-insensitive access to header values; names are lower case. */
interface Lookup {
  readonly get: (name: string) => string | undefined
  readonly names: () => ReadonlyArray<string>
}

/** `anthropic-ratelimit-<budget>-reset`; the budget's name is the group. */
const ANTHROPIC_RESET = /^anthropic-ratelimit-(.+)-reset$/

/** Tried when a `get`-only headers object cannot list its names. */
const KNOWN_ANTHROPIC_RESET_HEADERS = [
  "anthropic-ratelimit-input-tokens-reset",
  "anthropic-ratelimit-output-tokens-reset",
  "anthropic-ratelimit-requests-reset",
  "anthropic-ratelimit-tokens-reset"
]

const isHeadersGetter = (headers: HeadersInput): headers is HeadersGetter => Predicate.isFunction(headers.get)

const firstValue = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

const recordLookup = (record: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>): Lookup => {
  const values = new Map<string, string>()
  for (const key of Object.keys(record)) {
    const name = key.toLowerCase()
    const value = firstValue(record[key])
    if (value !== undefined && !values.has(name)) {
      values.set(name, value)
    }
  }
  return { get: (name) => values.get(name), names: () => Array.from(values.keys()) }
}

const getterNames = (headers: HeadersGetter): ReadonlyArray<string> => {
  if (Predicate.hasProperty(headers, "forEach") && Predicate.isFunction(headers.forEach)) {
    const names: Array<string> = []
    headers.forEach((_value: unknown, name: unknown) => {
      if (Predicate.isString(name)) names.push(name.toLowerCase())
    })
    return names
  }
  return KNOWN_ANTHROPIC_RESET_HEADERS
}

const getterLookup = (headers: HeadersGetter): Lookup => ({
  get: (name) => headers.get(name) ?? undefined,
  names: () => getterNames(headers)
})

const toLookup = (headers: HeadersInput): Lookup =>
  isHeadersGetter(headers) ? getterLookup(headers) : recordLookup(headers)

const header = (
  lookup: Lookup,
  name: string,
  parser: (value: string) => Option.Option<Duration.Duration>
): Option.Option<Duration.Duration> => Option.flatMap(Option.fromNullable(lookup.get(name)), parser)

type Source = (lookup: Lookup, now: number) => Option.Option<Duration.Duration>

const headerSource = (
  name: string,
  parser: (value: string, now: number) => Option.Option<Duration.Duration>
): Source =>
(lookup, now) => header(lookup, name, (value) => parser(value, now))

/**
 * A header that came twice arrives joined with ", " from undici and fetch,
 * while node:http keeps the first: the first value counts on every client.
 * An HTTP-date holds one comma itself, so the first value is the first part
 * or the first two parts, whichever parses.
 */
const firstOfJoined = (
  parser: (value: string, now: number) => Option.Option<Duration.Duration>
) =>
(value: string, now: number): Option.Option<Duration.Duration> => {
  const whole = parser(value, now)
  if (Option.isSome(whole) || !value.includes(",")) return whole
  const [first = "", second = ""] = value.split(",", 2)
  return Option.orElse(parser(first, now), () => parser(`${first},${second}`, now))
}

/** The headers that say when to retry, in order of precedence. */
const RETRY_SOURCES: ReadonlyArray<Source> = [
  headerSource("retry-after-ms", firstOfJoined(parseMillis)),
  headerSource("retry-after", firstOfJoined(parse))
]

const REMAINING = /^\d+$/

/** A `*-remaining` value: a non-negative integer, or unknown. */
const remainingOf = (lookup: Lookup, name: string): number | undefined => {
  const value = lookup.get(name)
  if (value === undefined) return undefined
  const trimmed = trimOws(value)
  return REMAINING.test(trimmed) ? Number(trimmed) : undefined
}

/** A reset header paired with the remaining header of the same budget. */
interface BudgetHeaders {
  readonly reset: string
  readonly remaining: string
  readonly parser: (value: string, now: number) => Option.Option<Duration.Duration>
}

const goDuration = (value: string) => parseGoDuration(value)

/** The budgets with a fixed pair of names: generic, then OpenAI's. */
const BUDGET_HEADERS: ReadonlyArray<BudgetHeaders> = [
  { reset: "ratelimit-reset", remaining: "ratelimit-remaining", parser: parseResetSeconds },
  { reset: "x-ratelimit-reset", remaining: "x-ratelimit-remaining", parser: parseResetSeconds },
  { reset: "x-ratelimit-reset-requests", remaining: "x-ratelimit-remaining-requests", parser: goDuration },
  { reset: "x-ratelimit-reset-tokens", remaining: "x-ratelimit-remaining-tokens", parser: goDuration }
]

/** Every rate-limit budget the headers describe with a valid reset, in one pass over the names. */
const budgetsOf = (lookup: Lookup, now: number): Array<Budget> => {
  const ietf = lookup.get("ratelimit")
  const budgets: Array<Budget> = ietf === undefined ? [] : rateLimitBudgets(ietf)
  for (const pair of BUDGET_HEADERS) {
    const reset = header(lookup, pair.reset, (value) => pair.parser(value, now))
    if (Option.isSome(reset)) budgets.push({ reset: reset.value, remaining: remainingOf(lookup, pair.remaining) })
  }
  const seen = new Set<string>()
  for (const name of lookup.names()) {
    const match = ANTHROPIC_RESET.exec(name)
    if (match === null || seen.has(name)) continue
    seen.add(name)
    const reset = header(lookup, name, (value) => parseTimestamp(value, now))
    if (Option.isSome(reset)) {
      budgets.push({ reset: reset.value, remaining: remainingOf(lookup, `anthropic-ratelimit-${match[1]}-remaining`) })
    }
  }
  return budgets
}

/** The body of `RetryAfter.fromHeaders`. */
export const fromHeaders = (headers: HeadersInput, now: number): Option.Option<Duration.Duration> => {
  const lookup = toLookup(headers)
  const retry = Arr.findFirst(RETRY_SOURCES, (source) => source(lookup, now))
  return Option.isSome(retry) ? retry : resetToWaitFor(budgetsOf(lookup, now))
}

/** The body of `RetryAfter.fromRetryAfterHeaders`. */
export const fromRetryAfterHeaders = (headers: HeadersInput, now: number): Option.Option<Duration.Duration> => {
  const lookup = toLookup(headers)
  return Arr.findFirst(RETRY_SOURCES, (source) => source(lookup, now))
}
