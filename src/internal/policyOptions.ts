/**
 * Retry policy options decoded by one `Schema`: `RetryPolicy.make`, `decode`,
 * `config`, the schedule combinators and the CLI flags all go through the
 * checks here, and every bad value becomes an `InvalidRetryPolicy` that names
 * the field, the value and what is allowed.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import type { Jitter, WhenAboveMax } from "../RetrySchedule.js"
import * as Defaults from "./defaults.js"
import { InvalidRetryPolicy } from "./errors.js"

/** What is wrong with a value: where (below the field being decoded), the value, what is allowed. */
export interface Problem {
  readonly path: ReadonlyArray<string>
  readonly value: unknown
  readonly allowed: string
  /** A key the options do not have (its value is not shown). */
  readonly unexpected?: boolean
}

/** A check of one option value: the decoded value, or what is wrong with it. */
export type Check<A> = (value: unknown) => Either.Either<A, Problem>

const problem = (value: unknown, allowed: string, path: ReadonlyArray<string> = []): Either.Either<never, Problem> =>
  Either.left({ path, value, allowed })

/** Renders a rejected option value for an error message without dumping large objects. */
export const describeValue = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (value === null || value === undefined) return String(value)
  if (Duration.isDuration(value)) return Duration.format(value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  return typeof value === "object" ? "an object" : `a ${typeof value}`
}

// --- durations ---------------------------------------------------------------

const UNIT_MILLIS: Record<string, number> = {
  nano: 1e-6,
  micro: 1e-3,
  milli: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000
}

const EFFECT_DURATION = /^\s*(\d+(?:\.\d+)?)\s+(nano|micro|milli|second|minute|hour|day|week)s?\s*$/
const MILLIS_STRING = /^\s*(\d+)\s*$/
/** No limit, as `Duration.format` ("Infinity") and the CLI ("∞") print it. */
const INFINITY = /^\s*(?:infinity|∞)\s*$/i

/**
 * The units of the short forms, largest first, with their milliseconds. These
 * are the forms the library and the CLI print ("500ms", "1.2s", "1m 30s") and
 * Effect's `Duration.format` ("1s 500ms", "2d 3h").
 */
const SHORT_UNITS: ReadonlyArray<readonly [unit: string, millis: number]> = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
  ["us", 1e-3],
  ["ns", 1e-6]
]

/** One `<number><unit>` part of a short form; `ms` is tried before `m`, and a unit ends at a non-letter. */
const SHORT_PART = /\s*(\d+(?:\.\d+)?)\s*(ms|us|ns|d|h|m|s)(?![a-z])\s*/y

/**
 * The milliseconds of a short form: one or more parts, each unit at most once
 * and largest first ("1m 30s", "1h30m", but not "30s 1m" or "1s 1s").
 */
const shortMillis = (text: string): number | undefined => {
  let millis = 0
  let position = 0
  let smallest = -1
  while (position < text.length) {
    SHORT_PART.lastIndex = position
    const part = SHORT_PART.exec(text)
    if (part === null) return undefined
    const rank = SHORT_UNITS.findIndex(([unit]) => unit === part[2])
    if (rank <= smallest) return undefined
    smallest = rank
    millis += Number(part[1]) * SHORT_UNITS[rank]![1]
    position = SHORT_PART.lastIndex
  }
  return position === 0 ? undefined : millis
}

export const DURATION_ALLOWED = "a non-negative duration: a Duration, milliseconds as a number, " +
  "or a string such as \"500 millis\", \"500ms\", \"1.5s\" or \"1m 30s\""

/**
 * A duration in milliseconds, computed without `Duration.decode` (which
 * throws a `RangeError` on values past a bigint's or a double's range).
 * `Infinity` is allowed only where it is written as such (a number, an
 * infinite `Duration`, or the text `Duration.format` and the CLI print for
 * one: "Infinity", "∞"); text or a tuple that overflows is rejected.
 */
const durationMillis = (value: unknown): number | undefined => {
  const millis = anyMillis(value)
  // A finite duration must be one Effect can hold (its nanoseconds a finite number).
  return millis === undefined || (Number.isFinite(millis) && !Number.isFinite(millis * 1e6)) ? undefined : millis
}

const anyMillis = (value: unknown): number | undefined => {
  if (Duration.isDuration(value)) return Duration.toMillis(value)
  if (typeof value === "number") return Number.isNaN(value) || value < 0 ? undefined : value
  if (typeof value === "bigint") return value < BigInt(0) ? undefined : finiteOrUndefined(Number(value) / 1e6)
  if (typeof value === "string") {
    if (INFINITY.test(value)) return Infinity
    const digits = MILLIS_STRING.exec(value)
    const unit = digits === null ? EFFECT_DURATION.exec(value) : null
    const millis = digits !== null
      ? Number(digits[1])
      : unit !== null
      ? Number(unit[1]) * UNIT_MILLIS[unit[2]!]!
      : shortMillis(value) ?? NaN
    return Number.isFinite(millis) ? millis : undefined
  }
  if (Array.isArray(value) && value.length === 2) {
    const [seconds, nanos] = value as Array<unknown>
    if (typeof seconds !== "number" || typeof nanos !== "number") return undefined
    const millis = seconds * 1000 + nanos / 1e6
    return seconds >= 0 && nanos >= 0 && Number.isFinite(millis) ? millis : undefined
  }
  return undefined
}

const finiteOrUndefined = (n: number): number | undefined => Number.isFinite(n) ? n : undefined

/**
 * A duration in one canonical form, so that equal durations given
 * differently ("500 millis", 500, [0, 5e8], 500000000n, "0.5s") make `Equal`
 * policies: whole milliseconds when it is within a nanosecond of them
 * (decimal text such as "1.001 seconds" lands a hair off in a double),
 * nanoseconds otherwise.
 */
const canonical = (millis: number): Duration.Duration => {
  if (!Number.isFinite(millis)) return Duration.infinity
  const whole = Math.round(millis)
  return Math.abs(millis - whole) < 1e-6 ? Duration.millis(whole) : Duration.nanos(BigInt(Math.round(millis * 1e6)))
}

/** A duration option (see `canonical`). */
export const duration: Check<Duration.Duration> = (value) => {
  const millis = durationMillis(value)
  return millis === undefined ? problem(value, DURATION_ALLOWED) : Either.right(canonical(millis))
}

/** A duration option that must be finite. */
export const finiteDuration: Check<Duration.Duration> = (value) =>
  Either.flatMap(duration(value), (decoded) =>
    Duration.isFinite(decoded) ? Either.right(decoded) : problem(value, `a finite ${DURATION_ALLOWED.slice(2)}`))

/** A duration's milliseconds. */
export const millisOf = (value: Duration.Duration): number => Duration.toMillis(value)

// --- numbers, names, labels ----------------------------------------------------

export const integerAtLeast = (min: number): Check<number> => (value) =>
  typeof value === "number" && Number.isInteger(value) && value >= min
    ? Either.right(value)
    : problem(value, `an integer >= ${min}`)

export const numberAtLeast = (min: number): Check<number> => (value) =>
  typeof value === "number" && Number.isFinite(value) && value >= min
    ? Either.right(value)
    : problem(value, `a finite number >= ${min}`)

export const oneOf = <const A extends ReadonlyArray<string>>(allowed: A): Check<A[number]> => (value) =>
  typeof value === "string" && allowed.includes(value.trim())
    ? Either.right(value.trim() as A[number])
    : problem(value, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`)

export const label: Check<string> = (value) =>
  typeof value === "string" && value.length > 0 ? Either.right(value) : problem(value, "a non-empty string")

export const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !Duration.isDuration(value) &&
  // Not a Date, a Map or another built-in whose fields are not options.
  Object.prototype.toString.call(value) === "[object Object]"

const own = (record: Readonly<Record<string, unknown>>, key: string): unknown =>
  Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined

const NO_SUCH_OPTION = "no such option; known options are "

/** Rejects keys the option shape does not have, so that a typo is an error rather than a silent default. */
export const unknownKey = (record: object, keys: ReadonlyArray<string>): Problem | undefined => {
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) {
      return { path: [key], value: undefined, allowed: `${NO_SUCH_OPTION}${keys.join(", ")}`, unexpected: true }
    }
  }
  return undefined
}

/** A nested options object: own keys only, each known, each checked. */
const record = <A>(keys: ReadonlyArray<string>, build: (get: (key: string) => unknown) => Either.Either<A, Problem>): Check<A> =>
(value) => {
  if (!isRecord(value)) return problem(value, "an object of options")
  const extra = unknownKey(value, keys)
  if (extra !== undefined) return Either.left(extra)
  return build((key) => own(value, key))
}

/** Checks `value` with `check`, or takes `fallback` when it is absent (`undefined`; never `null`). */
const orDefault = <A>(value: unknown, fallback: A, check: Check<A>, key: string): Either.Either<A, Problem> =>
  value === undefined ? Either.right(fallback) : Either.mapLeft(check(value), (p) => ({ ...p, path: [key, ...p.path] }))

// --- jitter and Retry-After ----------------------------------------------------

const JITTER_RANGE = /^\s*(\d+(?:\.\d+)?)\s*\.\.\s*(\d+(?:\.\d+)?)\s*$/

const jitterRange = record(["min", "max"], (get) =>
  Either.gen(function*() {
    const min = yield* Either.mapLeft(numberAtLeast(0)(get("min")), (p) => ({ ...p, path: ["min"] }))
    const max = yield* Either.mapLeft(numberAtLeast(0)(get("max")), (p) => ({ ...p, path: ["max"] }))
    if (min > max) return yield* problem(min, `a number <= jitter.max (${max})`, ["min"])
    return { min, max }
  }))

/**
 * A jitter option: a name, a `{ min, max }` range, or the same range written as
 * text ("0.75..1.25", the form of the environment and the CLI).
 */
export const jitter: Check<Jitter> = (value) => {
  if (typeof value === "string") {
    const range = JITTER_RANGE.exec(value)
    if (range !== null) return jitterRange({ min: Number(range[1]), max: Number(range[2]) })
    if ((Defaults.jitterNames as ReadonlyArray<string>).includes(value.trim())) return Either.right(value.trim() as Jitter)
    const names = Defaults.jitterNames.map((name) => JSON.stringify(name)).join(", ")
    return problem(value, `one of ${names}, or a range such as "0.75..1.25"`)
  }
  return jitterRange(value)
}

/** Resolved Retry-After rules. */
export interface RetryAfterRules {
  readonly max: Duration.Duration
  readonly whenAboveMax: WhenAboveMax
  readonly spread: number
}

/** Retry-After rules, the defaults filled in. */
export const retryAfterRules: Check<RetryAfterRules> = record(["max", "whenAboveMax", "spread"], (get) =>
  Either.gen(function*() {
    return {
      max: yield* orDefault(get("max"), Duration.millis(60_000), duration, "max"),
      whenAboveMax: yield* orDefault(get("whenAboveMax"), Defaults.retryAfter.whenAboveMax, oneOf(Defaults.whenAboveMaxNames), "whenAboveMax"),
      spread: yield* orDefault(get("spread"), Defaults.retryAfter.spread, numberAtLeast(0), "spread")
    }
  }))

/** `false` (ignore hints) or rules. */
const retryAfter: Check<RetryAfterRules | false> = (value) => value === false ? Either.right(false) : retryAfterRules(value)

// --- the schema ------------------------------------------------------------------

/** A Problem as the ParseIssue Schema reports: one Pointer per path segment, then the value's Type issue. */
const toIssue = (ast: SchemaAST.AST, p: Problem): ParseResult.ParseIssue =>
  p.path.reduceRight<ParseResult.ParseIssue>(
    (inner, key) => new ParseResult.Pointer(key, p.value, inner),
    p.unexpected === true ? new ParseResult.Unexpected(p.value, p.allowed) : new ParseResult.Type(ast, p.value, p.allowed)
  )

/** A Schema from an option's raw value to its decoded value, by `check`. */
const field = <A>(check: Check<A>): Schema.Schema<A, unknown> =>
  Schema.transformOrFail(Schema.Unknown, Schema.Unknown, {
    strict: true,
    decode: (value, _, ast) =>
      Either.match(check(value), {
        onLeft: (p) => ParseResult.fail(toIssue(ast, p)),
        onRight: (a) => ParseResult.succeed(a as unknown)
      }),
    encode: ParseResult.succeed
  }) as unknown as Schema.Schema<A, unknown>

/** An optional option: absent or `undefined` take the default; `null` is checked (and rejected) like any value. */
const optional = <A>(check: Check<A>, fallback: A) =>
  Schema.optionalWith(field((value) => value === undefined ? Either.right(fallback) : check(value)), {
    exact: true,
    default: () => fallback
  })

const optionalNone = <A>(check: Check<A>) =>
  Schema.optionalWith(
    field((value) => value === undefined ? Either.right(Option.none<A>()) : Either.map(check(value), Option.some)),
    { exact: true, default: () => Option.none<A>() }
  )

/** A policy's fields, decoded. */
export interface Fields {
  readonly maxAttempts: number
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
  readonly factor: number
  readonly jitter: Jitter
  readonly maxElapsed: Option.Option<Duration.Duration>
  readonly retryAfter: RetryAfterRules | false
  readonly name: Option.Option<string>
}

export const fieldNames = [
  "maxAttempts",
  "baseDelay",
  "maxDelay",
  "factor",
  "jitter",
  "maxElapsed",
  "retryAfter",
  "name"
] as const satisfies ReadonlyArray<keyof Fields>

const defaultRules = Either.getOrThrow(retryAfterRules({}))

const OptionFields = Schema.Struct({
  maxAttempts: optional(integerAtLeast(1), Defaults.maxAttempts),
  baseDelay: optional(finiteDuration, Duration.millis(500)),
  maxDelay: optional(duration, Duration.millis(8000)),
  factor: optional(numberAtLeast(1), Defaults.factor),
  jitter: optional(jitter, Defaults.jitter as Jitter),
  maxElapsed: optionalNone(duration),
  retryAfter: optional(retryAfter, defaultRules),
  name: optionalNone(label)
}).annotations({ parseOptions: { onExcessProperty: "error" } })

/**
 * The policy options as a Schema: from the raw options (unknown input: a
 * plain object whose properties can be read) to the decoded fields. Own
 * properties only; an unknown key is an error.
 */
export const FieldsFromOptions: Schema.Schema<Fields, unknown> = Schema.compose(
  Schema.declare(isReadableRecord, { message: () => "an object of options whose properties can be read" }),
  OptionFields,
  { strict: false }
) as unknown as Schema.Schema<Fields, unknown>

/**
 * A plain object of options whose own properties can all be read: a getter
 * or a Proxy trap that throws makes it an invalid input, not a defect.
 */
export function isReadableRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  if (!isRecord(value)) return false
  try {
    for (const key of Reflect.ownKeys(value)) void (value as Record<PropertyKey, unknown>)[key]
    return true
  } catch {
    return false
  }
}


/** The first problem a ParseIssue reports, as an `InvalidRetryPolicy` whose field is the dotted path. */
export const toInvalid = (issue: ParseResult.ParseIssue, path: ReadonlyArray<string> = [], keys?: ReadonlyArray<string>): InvalidRetryPolicy => {
  switch (issue._tag) {
    case "Pointer": {
      const segments = Array.isArray(issue.path) ? issue.path : [issue.path]
      return toInvalid(issue.issue, [...path, ...segments.map(String)], keys)
    }
    case "Composite": {
      const nested = issue.ast._tag === "TypeLiteral"
        ? issue.ast.propertySignatures.map((p) => String(p.name))
        : keys
      const first = Array.isArray(issue.issues) ? issue.issues[0] : issue.issues
      return toInvalid(first as ParseResult.ParseIssue, path, nested)
    }
    case "Refinement":
    case "Transformation":
      return toInvalid(issue.issue, path, keys)
    case "Unexpected":
      return new InvalidRetryPolicy({
        field: path.join("."),
        value: "present",
        allowed: issue.message?.startsWith(NO_SUCH_OPTION) === true
          ? issue.message
          : `${NO_SUCH_OPTION}${(keys ?? []).join(", ")}`
      })
    case "Type":
      return path.length === 0 && issue.message === undefined
        ? new InvalidRetryPolicy({ field: "options", value: describeValue(issue.actual), allowed: "an object of options" })
        : new InvalidRetryPolicy({
          field: path.length === 0 ? "options" : path.join("."),
          value: describeValue(issue.actual),
          allowed: issue.message ?? "a valid value"
        })
    case "Missing":
    case "Forbidden":
      return new InvalidRetryPolicy({ field: path.join("."), value: "missing", allowed: issue.message ?? "a value" })
  }
}

/** The options' fields, decoded, or the first problem as an `InvalidRetryPolicy`. */
export const decodeFields = (input: unknown): Either.Either<Fields, InvalidRetryPolicy> =>
  Either.mapLeft(ParseResult.decodeUnknownEither(FieldsFromOptions)(input), (issue) => toInvalid(issue))

/** Checks one option value, throwing `InvalidRetryPolicy` naming `fieldName` when it is bad. */
export const orThrow = <A>(fieldName: string, check: Check<A>, value: unknown): A =>
  Either.getOrThrowWith(check(value), (p) =>
    new InvalidRetryPolicy({
      field: [fieldName, ...p.path].filter((s) => s !== "").join("."),
      value: p.unexpected === true ? "present" : describeValue(p.value),
      allowed: p.allowed
    }))
