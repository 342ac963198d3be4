import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual, identity } from "effect/Function"
import * as Hash from "effect/Hash"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as RetryPolicy from "../RetryPolicy.js"
import * as Decision from "./decision.js"
import type { InvalidRetryPolicy } from "./errors.js"
import * as PolicyOptions from "./policyOptions.js"
import * as Retryable from "./retryable.js"
import * as Validate from "./validate.js"

// The bodies of `RetryPolicy`: the policy value, its decoding from options
// and configuration, and the presets.

/** The body of `RetryPolicy.TypeId`. */
export const TypeId: RetryPolicy.TypeId = Symbol.for("effect-retry/RetryPolicy") as RetryPolicy.TypeId

type Fields = Omit<RetryPolicy.RetryPolicy, RetryPolicy.TypeId | "pipe">

const fieldNames = PolicyOptions.fieldNames

interface PolicyImpl extends Fields {}

// Equality and hashing by value, without caching the hash on the instance, so
// that a policy can be frozen.
class PolicyImpl implements RetryPolicy.RetryPolicy, Equal.Equal {
  readonly [TypeId]: RetryPolicy.TypeId = TypeId
  constructor(fields: Fields) {
    Object.assign(this, fields)
    Object.freeze(this)
  }
  [Equal.symbol](that: unknown): boolean {
    return isRetryPolicy(that) && fieldNames.every((key) => Equal.equals(this[key], that[key]))
  }
  [Hash.symbol](): number {
    return fieldNames.reduce((hash, key) => Hash.combine(Hash.hash(this[key]))(hash), Hash.string("RetryPolicy"))
  }
  pipe() {
    return pipeArguments(this, arguments)
  }
  toJSON() {
    return { _id: "RetryPolicy", ...toOptions(this) }
  }
}

/** A structurally equal value that cannot be changed: its hash is cached before it is frozen. */
const frozenStruct = <A extends Record<string, unknown>>(fields: A): A => {
  const value = Data.struct(fields)
  Hash.hash(value)
  return Object.freeze(value)
}

const fromFields = (fields: PolicyOptions.Fields): RetryPolicy.RetryPolicy =>
  new PolicyImpl({
    ...fields,
    jitter: typeof fields.jitter === "string" ? fields.jitter : frozenStruct({ ...fields.jitter }),
    retryAfter: fields.retryAfter === false ? false : frozenStruct({ ...fields.retryAfter })
  })

/** Decodes options (absent options are the defaults; `null` is not). */
const resolveEither = (input: unknown): Either.Either<RetryPolicy.RetryPolicy, InvalidRetryPolicy> =>
  Either.map(PolicyOptions.decodeFields(input === undefined ? {} : input), fromFields)

const resolve = (input: unknown): RetryPolicy.RetryPolicy => Either.getOrThrowWith(resolveEither(input), identity)

/** The body of `RetryPolicy.FromOptions`. */
export const FromOptions: Schema.Schema<RetryPolicy.RetryPolicy, unknown> = Schema.transform(
  PolicyOptions.FieldsFromOptions,
  Schema.declare((u): u is RetryPolicy.RetryPolicy => isRetryPolicy(u), { identifier: "RetryPolicy" }),
  {
    strict: true,
    decode: fromFields,
    encode: (policy): PolicyOptions.Fields => ({
      maxAttempts: policy.maxAttempts,
      baseDelay: policy.baseDelay,
      maxDelay: policy.maxDelay,
      factor: policy.factor,
      jitter: policy.jitter,
      maxElapsed: policy.maxElapsed,
      retryAfter: policy.retryAfter,
      name: policy.name
    })
  }
) as unknown as Schema.Schema<RetryPolicy.RetryPolicy, unknown>

/** The body of `RetryPolicy.make`. */
export const make = (options: RetryPolicy.Options = {}): RetryPolicy.RetryPolicy => resolve(options)

/** The body of `RetryPolicy.default`. */
export const defaultPolicy: RetryPolicy.RetryPolicy = make()

/** The body of `RetryPolicy.decode`. */
export const decode = (input: unknown): Effect.Effect<RetryPolicy.RetryPolicy, InvalidRetryPolicy> =>
  Effect.suspend(() => resolveEither(input))

/** The body of `RetryPolicy.update`. */
export const update = dual(
  2,
  (self: RetryPolicy.RetryPolicy, options: RetryPolicy.Options): RetryPolicy.RetryPolicy => {
    // Checked before the merge, which would read a getter or drop a Date's fields unchecked.
    if (!PolicyOptions.isReadableRecord(options)) {
      throw Validate.invalid("options", options, "an object of options whose properties can be read")
    }
    return make({ ...toOptions(self), ...options })
  }
)

/** The body of `RetryPolicy.toOptions`. */
export const toOptions = (self: RetryPolicy.RetryPolicy): RetryPolicy.Options => ({
  maxAttempts: self.maxAttempts,
  baseDelay: self.baseDelay,
  maxDelay: self.maxDelay,
  factor: self.factor,
  jitter: self.jitter,
  maxElapsed: Option.getOrUndefined(self.maxElapsed),
  retryAfter: self.retryAfter,
  name: Option.getOrUndefined(self.name)
})

/** The body of `RetryPolicy.isRetryPolicy`. */
export const isRetryPolicy = (u: unknown): u is RetryPolicy.RetryPolicy =>
  typeof u === "object" && u !== null && TypeId in u

const hintMillis = (error: unknown): number | undefined => {
  const hint = Retryable.retryAfter(error)
  return Option.isSome(hint) ? Duration.toMillis(hint.value) : undefined
}

/** The body of `RetryPolicy.toSchedule`. */
export const toSchedule = <E = unknown>(
  policy: RetryPolicy.RetryPolicy,
  options: RetryPolicy.ScheduleOptions<E> = {}
): Schedule.Schedule<Duration.Duration, E> =>
  Decision.toSchedule(Decision.planOf(policy), options.while ?? Retryable.isRetryable, hintMillis)

/** The configuration key of each option a policy's checks name, in the order they are documented. */
const configKeys = {
  maxAttempts: "MAX_ATTEMPTS",
  baseDelay: "BASE_DELAY",
  maxDelay: "MAX_DELAY",
  factor: "FACTOR",
  jitter: "JITTER",
  maxElapsed: "MAX_ELAPSED",
  retryAfter: "RETRY_AFTER",
  "retryAfter.max": "RETRY_AFTER_MAX",
  "retryAfter.whenAboveMax": "RETRY_AFTER_WHEN_ABOVE_MAX",
  "retryAfter.spread": "RETRY_AFTER_SPREAD"
} as const

type ConfigKey = typeof configKeys[keyof typeof configKeys]

const CONFIG_KEYS = Object.values(configKeys)

const keyOf = (field: string): string => {
  const keys: Readonly<Record<string, ConfigKey | undefined>> = configKeys
  return keys[field] ?? keys[field.split(".")[0]!] ?? field
}

/**
 * A number when the text is one (as `Config.number` reads it), otherwise the
 * text, so that the message quotes what was given. Blank text is not 0.
 */
const numeric = (text: string | undefined): number | string | undefined => {
  if (text === undefined) return undefined
  const n = Number(text)
  return text.trim() === "" || Number.isNaN(n) ? text : n
}

const RULE_KEYS = ["RETRY_AFTER_MAX", "RETRY_AFTER_WHEN_ABOVE_MAX", "RETRY_AFTER_SPREAD"] as const

/**
 * `RETRY_AFTER`: `on` (the default) or `off`, with spaces around ignored as
 * for the other named values. A rule for hints set beside `off` is an error
 * at that rule's key (the path names it with its prefix; the message cannot).
 */
const retryAfterSwitch = (given: Readonly<Record<ConfigKey, string | undefined>>): Either.Either<boolean, ConfigError.ConfigError> => {
  const value = given.RETRY_AFTER?.trim()
  if (value === undefined || value === "on") return Either.right(true)
  if (value !== "off") {
    const got = value === "" ? "an empty value" : PolicyOptions.describeValue(given.RETRY_AFTER)
    return Either.left(ConfigError.InvalidData(["RETRY_AFTER"], `expected "on" or "off", got ${got}`))
  }
  const errors = RULE_KEYS.filter((key) => given[key] !== undefined).map((key) =>
    ConfigError.InvalidData([key], "must not be set while Retry-After hints are turned off (\"off\")")
  )
  return errors.length === 0 ? Either.right(false) : Either.left(errors.reduce((left, right) => ConfigError.And(left, right)))
}

/** The body of `RetryPolicy.config`. */
export const config: Config.Config<RetryPolicy.RetryPolicy> = Config.all(
  Object.fromEntries(CONFIG_KEYS.map((key) => [key, Config.option(Config.string(key))])) as Record<
    ConfigKey,
    Config.Config<Option.Option<string>>
  >
).pipe(
  Config.mapOrFail((values) => {
    const given = Object.fromEntries(CONFIG_KEYS.map((key) => [key, Option.getOrUndefined(values[key])])) as Record<
      ConfigKey,
      string | undefined
    >
    const hints = retryAfterSwitch(given)
    const options = {
      maxAttempts: numeric(given.MAX_ATTEMPTS),
      baseDelay: given.BASE_DELAY,
      maxDelay: given.MAX_DELAY,
      factor: numeric(given.FACTOR),
      jitter: given.JITTER,
      maxElapsed: given.MAX_ELAPSED,
      // A bad RETRY_AFTER is reported with the other keys' problems; its rules are not read.
      retryAfter: Either.getOrElse(hints, () => false) && {
        max: given.RETRY_AFTER_MAX,
        whenAboveMax: given.RETRY_AFTER_WHEN_ABOVE_MAX,
        spread: numeric(given.RETRY_AFTER_SPREAD)
      }
    }
    const policy = resolveEither(options)
    if (Either.isRight(hints) && Either.isRight(policy)) return Either.right(policy.right)
    const each = everyProblem(options)
    const problems = Either.isLeft(policy) && each.length === 0 ? [policy.left] : each
    return Either.left(
      [...Either.isLeft(hints) ? [hints.left] : [], ...problems.map((error) => configError(error, given))]
        .reduce((left, right) => ConfigError.And(left, right))
    )
  })
)

/**
 * Every option that is invalid on its own, checked one by one, so that a
 * configuration with several bad keys reports them all, as `Config.all` does.
 */
const everyProblem = (options: Readonly<Record<string, unknown>>): Array<InvalidRetryPolicy> => {
  const { retryAfter, ...topLevel } = options
  const alone = [
    ...Object.entries(topLevel).map(([field, value]) => ({ [field]: value })),
    ...Object.entries(typeof retryAfter === "object" && retryAfter !== null ? retryAfter : {}).map(([field, value]) => ({
      retryAfter: { [field]: value }
    }))
  ]
  return alone.flatMap((option) => Either.match(resolveEither(option), { onLeft: (error) => [error], onRight: () => [] }))
}

/**
 * A policy's check as a configuration error: the path names the key
 * (`Config.nested` adds its prefix before it). An empty value
 * (`RETRY_MAX_ATTEMPTS=`) is rejected by every option; it is said to be empty.
 */
const configError = (error: InvalidRetryPolicy, given: Readonly<Record<ConfigKey, string | undefined>>): ConfigError.ConfigError => {
  const key = keyOf(error.field)
  const empty = (given as Record<string, string | undefined>)[key]?.trim() === ""
  return ConfigError.InvalidData([key], `expected ${error.allowed}, got ${empty ? "an empty value" : error.value}`)
}

/** The body of `RetryPolicy.presets`. */
export const presets = {
  default: defaultPolicy,
  llm: make({
    name: "llm",
    maxAttempts: 3,
    baseDelay: "500 millis",
    maxDelay: "8 seconds",
    retryAfter: { max: "60 seconds", whenAboveMax: "fail" }
  }),
  "latency-sensitive": make({
    name: "latency-sensitive",
    maxAttempts: 5,
    baseDelay: "100 millis",
    maxDelay: "1 second",
    jitter: "full",
    maxElapsed: "3500 millis",
    retryAfter: { max: "1 second", whenAboveMax: "fail" }
  }),
  "aws-standard": make({
    name: "aws-standard",
    maxAttempts: 3,
    baseDelay: "100 millis",
    maxDelay: "20 seconds",
    jitter: "full",
    retryAfter: { max: "20 seconds", whenAboveMax: "clamp" }
  })
}

/** The body of `RetryPolicy.preset`. */
export const preset = (name: string): Effect.Effect<RetryPolicy.RetryPolicy, InvalidRetryPolicy> =>
  Object.prototype.hasOwnProperty.call(presets, name)
    ? Effect.succeed(presets[name as keyof typeof presets])
    : Effect.fail(Validate.invalid("preset", name, `one of ${Object.keys(presets).join(", ")}`))
