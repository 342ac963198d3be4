/**
 * The policy flags shared by `demo` and `explain`, and how they become a
 * `RetryPolicy`. Every flag is taken as text and handed to `RetryPolicy.decode`,
 * so a bad value is reported with the library's own `InvalidRetryPolicy`
 * message (which names the option) rather than a parser error of the CLI.
 */
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as ConfigProviderPathPatch from "effect/ConfigProviderPathPatch"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"
import { RetryPolicy } from "effect-retry"
import { booleanFlag, valueFlag } from "./argv.js"
import { CliFailure, USAGE } from "./errors.js"

const NUMBER = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

const DURATION_HELP = "A duration such as \"500ms\", \"1.5s\", \"1m 30s\", \"500 millis\" or \"2 seconds\", or an integer of milliseconds."

const text = (name: string, pseudoName: string, description: string) =>
  Options.text(valueFlag(name, pseudoName)).pipe(
    Options.withPseudoName(pseudoName),
    Options.withDescription(description),
    Options.optional
  )

/** The flags that set one option of a policy each. */
export const policyFlags = {
  maxAttempts: text(
    "max-attempts",
    "N",
    "Total attempts, the first included: an integer >= 1 (default 3)."
  ),
  baseDelay: text("base-delay", "DURATION", `The delay before the first retry, before jitter (default 500 millis). ${DURATION_HELP}`),
  maxDelay: text("max-delay", "DURATION", `The cap on every computed delay (default 8 seconds). ${DURATION_HELP}`),
  factor: text("factor", "NUMBER", "Growth of the delay per retry, at least 1 (default 2)."),
  jitter: text(
    "jitter",
    "KIND",
    "How each delay d is randomised: none (d), full (0..d), equal (d/2..d), decorrelated " +
      "(base..3 x the previous delay), or a multiplier range such as 0.75..1.25 (the default)."
  ),
  maxElapsed: text(
    "max-elapsed",
    "DURATION",
    `A total time budget from the start of the first attempt; a retry that would end past it is not made (default none). ${DURATION_HELP}`
  ),
  retryAfter: text(
    "retry-after",
    "on|off",
    "Whether a server's Retry-After hints are honoured: on (the default) or off (every retry uses the backoff)."
  ),
  retryAfterMax: text(
    "retry-after-max",
    "DURATION",
    `The longest Retry-After hint that is honoured (default 60 seconds). ${DURATION_HELP}`
  ),
  whenAboveMax: text(
    "when-above-max",
    "MODE",
    "What to do with a longer Retry-After hint: fail (give up, the default), clamp (wait --retry-after-max) or ignore (use the backoff)."
  ),
  retryAfterSpread: text(
    "retry-after-spread",
    "NUMBER",
    "How much longer than a hint a retry may wait, as a share of the hint, so that clients told the same moment " +
      "do not all come back at once: a number >= 0 (default 0.1: up to 10 % more)."
  )
}

const ENV_PREFIX = "RETRY"

/**
 * The environment variables `--env` reads: every key `RetryPolicy.config`
 * asks for under the prefix, found by running it once against a provider that
 * records the keys it is asked for. The list follows the library by itself.
 */
export const envKeys: ReadonlyArray<string> = (() => {
  const keys: Array<string> = []
  const recorder = ConfigProvider.fromFlat(ConfigProvider.makeFlat({
    load: (path) => {
      keys.push(path.join("_"))
      return Effect.fail(ConfigError.MissingData([...path], "recording the keys"))
    },
    enumerateChildren: () => Effect.succeed(HashSet.empty()),
    patch: ConfigProviderPathPatch.empty
  }))
  Effect.runSync(Effect.either(Effect.withConfigProvider(Config.nested(RetryPolicy.config, ENV_PREFIX), recorder)))
  return [...new Set(keys)]
})()

/** Levenshtein distance, for "did you mean". */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** Warnings for RETRY_* variables that `--env` does not read, with the nearest key it does read. */
export const unknownEnvKeys = (env: Record<string, string | undefined>): Array<string> =>
  Object.keys(env)
    .filter((key) => key.startsWith(`${ENV_PREFIX}_`) && !envKeys.includes(key))
    .sort()
    .map((key) => {
      const nearest = [...envKeys].sort((a, b) => distance(key, a) - distance(key, b))[0]
      const hint = nearest !== undefined && distance(key, nearest) <= 3 ? ` (did you mean ${nearest}?)` : ""
      return `warning: ${key} is not read by --env${hint}; it reads ${envKeys.join(", ")}.`
    })

/** Where the policy starts from, before the flags above are applied. */
export const sourceFlags = {
  preset: text(
    "preset",
    "NAME",
    `Start from a named policy: ${Object.keys(RetryPolicy.presets).join(", ")}.`
  ),
  env: Options.boolean(booleanFlag("env")).pipe(
    Options.withDescription(
      "Start from the policy in the environment, read with Config.nested(RetryPolicy.config, \"RETRY\"): " +
        `${envKeys.join(", ")}, each optional. Any other RETRY_* variable is reported as unknown (a typo, say). ` +
        "Flags given as well override them. Cannot be combined with --preset."
    )
  )
}

type Flag = Option.Option<string>

/** The parsed policy flags. */
export interface PolicyFlags {
  readonly maxAttempts: Flag
  readonly baseDelay: Flag
  readonly maxDelay: Flag
  readonly factor: Flag
  readonly jitter: Flag
  readonly maxElapsed: Flag
  readonly retryAfter: Flag
  readonly retryAfterMax: Flag
  readonly whenAboveMax: Flag
  readonly retryAfterSpread: Flag
  readonly preset: Flag
  readonly env: boolean
}

/** A number when the text is one, otherwise the text, so that the library's message quotes what was typed. */
const numeric = (value: string): number | string => NUMBER.test(value) ? Number(value) : value

/**
 * A config error as environment variable names: "RETRY_MAX_ATTEMPTS: expected an
 * integer >= 1". `ConfigError`'s own rendering joins the path with dots
 * ("RETRY.MAX_ATTEMPTS"), which is not the name of any variable.
 */
export const describeConfigError = (error: ConfigError.ConfigError): string => {
  switch (error._op) {
    case "And":
    case "Or":
      return `${describeConfigError(error.left)}; ${describeConfigError(error.right)}`
    default: {
      const name = error.path.join("_")
      return name === "" ? error.message : `${name}: ${error.message}`
    }
  }
}

/** The flag of each policy field, as the library's `InvalidRetryPolicy` names the field. */
const flagOfField: Record<string, string> = {
  maxAttempts: "--max-attempts",
  baseDelay: "--base-delay",
  maxDelay: "--max-delay",
  factor: "--factor",
  jitter: "--jitter",
  maxElapsed: "--max-elapsed",
  retryAfter: "--retry-after",
  "retryAfter.max": "--retry-after-max",
  "retryAfter.whenAboveMax": "--when-above-max",
  "retryAfter.spread": "--retry-after-spread",
  preset: "--preset"
}

/** A multiplier range as typed ("-1..2"): its two ends, when the text is one. */
const RANGE = /^\s*([+-]?[\d.]+(?:[eE][+-]?\d+)?)\s*\.\.\s*([+-]?[\d.]+(?:[eE][+-]?\d+)?)\s*$/

/**
 * The library's `InvalidRetryPolicy` as a usage error that names the flag the
 * user typed (`--retry-after-max`), not the policy field (`retryAfter.max`).
 */
const invalid = (error: RetryPolicy.InvalidRetryPolicy) => {
  const { field, value, allowed } = error as unknown as { field?: unknown; value?: unknown; allowed?: unknown }
  // A part of an option (`jitter.min`) is reported under the option's flag.
  const flag = typeof field === "string" ? flagOfField[field] ?? flagOfField[field.split(".")[0]!] : undefined
  if (flag === undefined || typeof value !== "string" || typeof allowed !== "string") {
    return new CliFailure({ message: error.message, exitCode: USAGE })
  }
  if (flag === "--jitter") {
    const range = RANGE.exec(value.replace(/^"|"$/g, ""))
    if (range !== null && Number(range[1]) < 0) {
      return new CliFailure({
        message: `Invalid value for --jitter: ${value}: the minimum ${range[1]} is negative; a multiplier range needs 0 <= min <= max, such as 0.75..1.25.`,
        exitCode: USAGE
      })
    }
  }
  const part = flagOfField[field as string] === undefined ? `${field as string} is ` : ""
  return new CliFailure({ message: `Invalid value for ${flag}: ${part}${value}, expected ${allowed}.`, exitCode: USAGE })
}

/** The policy the flags start from: the default, a preset, or the environment. */
const basePolicy = (flags: PolicyFlags): Effect.Effect<RetryPolicy.RetryPolicy, CliFailure> => {
  if (flags.env && Option.isSome(flags.preset)) {
    return Effect.fail(new CliFailure({ message: "Use either --preset or --env, not both.", exitCode: USAGE }))
  }
  if (Option.isSome(flags.preset)) return Effect.mapError(RetryPolicy.preset(flags.preset.value), invalid)
  if (flags.env) {
    const warnings = unknownEnvKeys(process.env)
    return Effect.zipRight(
      Effect.forEach(warnings, (warning) => Console.error(warning), { discard: true }),
      Effect.mapError(
      Config.nested(RetryPolicy.config, ENV_PREFIX),
      (error) =>
        new CliFailure({
          message: `Invalid retry policy in the environment: ${describeConfigError(error)}`,
          exitCode: USAGE
        })
      )
    )
  }
  return Effect.succeed(RetryPolicy.default)
}

/**
 * Builds the policy the flags describe. Every failure is a `CliFailure` with
 * exit status 2 whose message is the library's `InvalidRetryPolicy` message.
 */
export const resolvePolicy = (flags: PolicyFlags): Effect.Effect<RetryPolicy.RetryPolicy, CliFailure> =>
  Effect.flatMap(basePolicy(flags), (base) => {
    const overrides: Record<string, unknown> = {}
    const set = (key: keyof RetryPolicy.Options, flag: Flag, parse: (value: string) => unknown) => {
      if (Option.isSome(flag)) overrides[key] = parse(flag.value)
    }
    try {
      set("maxAttempts", flags.maxAttempts, numeric)
      set("baseDelay", flags.baseDelay, (value) => value)
      set("maxDelay", flags.maxDelay, (value) => value)
      set("factor", flags.factor, numeric)
      set("jitter", flags.jitter, (value) => value)
      set("maxElapsed", flags.maxElapsed, (value) => value)
    } catch (error) {
      if (error instanceof RetryPolicy.InvalidRetryPolicy) return Effect.fail(invalid(error))
      return Effect.die(error)
    }
    const hints = hintOverrides(flags, base)
    if (hints._tag === "Left") return Effect.fail(hints.left)
    if (hints.right !== undefined) overrides.retryAfter = hints.right
    const policy = Object.keys(overrides).length === 0
      ? Effect.succeed(base)
      : Effect.mapError(RetryPolicy.decode({ ...RetryPolicy.toOptions(base), ...overrides }), invalid)
    return Effect.tap(policy, (resolved) => surelyUnintended(resolved, flags))
  })

/** The flags for hints that set a rule: each needs hints on. */
const HINT_RULE_FLAGS = ["retryAfterMax", "whenAboveMax", "retryAfterSpread"] as const

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

/**
 * The `retryAfter` the Retry-After flags make of the base policy's, or
 * undefined when none is given. `--retry-after off` is `false`, and so is a
 * base with hints off (`RETRY_RETRY_AFTER=off`, unless `--retry-after on`);
 * a rule for hints given beside either is refused, as the library refuses the
 * same mix in the environment.
 */
const hintOverrides = (
  flags: PolicyFlags,
  base: RetryPolicy.RetryPolicy
): Either.Either<RetryPolicy.Options["retryAfter"] | undefined, CliFailure> => {
  const rules = HINT_RULE_FLAGS.filter((key) => Option.isSome(flags[key]))
  const turn = Option.getOrUndefined(flags.retryAfter)?.trim()
  if (turn !== undefined && turn !== "on" && turn !== "off") {
    return Either.left(
      new CliFailure({ message: `Invalid value for --retry-after: "${turn}", expected on or off.`, exitCode: USAGE })
    )
  }
  const off = turn === "off" || (turn === undefined && base.retryAfter === false)
  if (off && rules.length > 0) {
    const why = turn === "off" ? "--retry-after off" : flags.env ? "RETRY_RETRY_AFTER=off" : "the policy"
    return Either.left(
      new CliFailure({
        message: `${rules.map(flagName).join(" and ")} cannot be used: ${why} turns Retry-After hints off.`,
        exitCode: USAGE
      })
    )
  }
  if (turn === undefined && rules.length === 0) return Either.right(undefined)
  if (off) return Either.right(false)
  return Either.right({
    ...(base.retryAfter === false ? {} : base.retryAfter),
    ...Option.match(flags.retryAfterMax, { onNone: () => ({}), onSome: (max) => ({ max }) }),
    ...Option.match(flags.whenAboveMax, { onNone: () => ({}), onSome: (whenAboveMax) => ({ whenAboveMax }) }),
    ...Option.match(flags.retryAfterSpread, { onNone: () => ({}), onSome: (spread) => ({ spread: numeric(spread) }) })
  } as RetryPolicy.Options["retryAfter"])
}

/** Where a policy field came from, for a message: the flag when given, else the variable of --env, else the preset. */
const origin = (flags: PolicyFlags, flag: Flag, name: string, key: string) =>
  Option.isSome(flag) ? `--${name} ${flag.value}` : flags.env ? key : Option.isSome(flags.preset) ? `preset ${flags.preset.value}` : `--${name}`

/** Where the attempt count came from, for a message about it: "--max-attempts 9", "RETRY_MAX_ATTEMPTS", "preset llm". */
export const attemptsOrigin = (flags: PolicyFlags): string =>
  origin(flags, flags.maxAttempts, "max-attempts", "RETRY_MAX_ATTEMPTS")

/**
 * Values the library accepts but that are surely not what was meant: an
 * attempt count no number can count exactly (refused), a jitter range 0..0,
 * which makes every delay zero, and a base delay above the cap, which makes
 * every delay the cap (both warned about on stderr; the command goes on).
 */
const surelyUnintended = (policy: RetryPolicy.RetryPolicy, flags: PolicyFlags): Effect.Effect<void, CliFailure> => {
  if (!Number.isSafeInteger(policy.maxAttempts)) {
    return Effect.fail(
      new CliFailure({
        message: `Invalid value for ${attemptsOrigin(flags)}: ` +
          `above ${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER), where attempts can no longer be counted exactly.`,
        exitCode: USAGE
      })
    )
  }
  const warnings: Array<string> = []
  const jitter = policy.jitter
  if (typeof jitter === "object" && jitter.max === 0) {
    warnings.push(
      `warning: ${origin(flags, flags.jitter, "jitter", "RETRY_JITTER")} multiplies every delay by 0, so retries come at once; ` +
        "for no jitter use --jitter none."
    )
  }
  if (Duration.greaterThan(policy.baseDelay, policy.maxDelay)) {
    warnings.push(
      `warning: ${origin(flags, flags.baseDelay, "base-delay", "RETRY_BASE_DELAY")} is above ` +
        `${origin(flags, flags.maxDelay, "max-delay", "RETRY_MAX_DELAY")}, so every delay is the cap ` +
        `(${Duration.format(policy.maxDelay)}).`
    )
  }
  return Effect.forEach(warnings, (warning) => Console.error(warning), { discard: true })
}

/** The names of the policy flags that were given, as typed ("--max-attempts"). */
export const givenFlags = (flags: PolicyFlags): Array<string> =>
  (Object.keys(policyFlags) as Array<keyof typeof policyFlags>)
    .filter((key) => Option.isSome(flags[key]))
    .map(flagName)

/** All the flags that pick a policy, for a command's config. */
export const allPolicyFlags = { ...policyFlags, ...sourceFlags }
