/**
 * The policy flags shared by `demo` and `explain`, and how they become a
 * `RetryPolicy`. Every flag is taken as text and handed to `RetryPolicy.decode`,
 * so a bad value is reported with the library's own `InvalidRetryPolicy`
 * message (which names the option) rather than a parser error of the CLI.
 */
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { RetryPolicy } from "effect-retry"
import { CliFailure, USAGE } from "./errors.js"

const NUMBER = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

const DURATION_HELP = "A duration such as \"500ms\", \"1.5s\", \"500 millis\" or \"2 seconds\", or an integer of milliseconds."

const text = (name: string, pseudoName: string, description: string) =>
  Options.text(name).pipe(
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
  retryAfterMax: text(
    "retry-after-max",
    "DURATION",
    `The longest Retry-After hint that is honoured (default 60 seconds). ${DURATION_HELP}`
  ),
  whenAboveMax: text(
    "when-above-max",
    "MODE",
    "What to do with a longer Retry-After hint: fail (give up, the default), clamp (wait --retry-after-max) or ignore (use the backoff)."
  )
}

/** Where the policy starts from, before the flags above are applied. */
export const sourceFlags = {
  preset: text(
    "preset",
    "NAME",
    `Start from a named policy: ${Object.keys(RetryPolicy.presets).join(", ")}.`
  ),
  env: Options.boolean("env").pipe(
    Options.withDescription(
      "Start from the policy in the environment, read with Config.nested(RetryPolicy.config, \"RETRY\"): " +
        "RETRY_MAX_ATTEMPTS, RETRY_BASE_DELAY, RETRY_MAX_DELAY, RETRY_FACTOR, RETRY_JITTER, RETRY_MAX_ELAPSED " +
        "and RETRY_RETRY_AFTER_MAX, each optional (the RETRY_ prefix is required). Flags given as well override them. " +
        "Cannot be combined with --preset."
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
  readonly retryAfterMax: Flag
  readonly whenAboveMax: Flag
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

const invalid = (error: RetryPolicy.InvalidRetryPolicy) => new CliFailure({ message: error.message, exitCode: USAGE })

/** The policy the flags start from: the default, a preset, or the environment. */
const basePolicy = (flags: PolicyFlags): Effect.Effect<RetryPolicy.RetryPolicy, CliFailure> => {
  if (flags.env && Option.isSome(flags.preset)) {
    return Effect.fail(new CliFailure({ message: "Use either --preset or --env, not both.", exitCode: USAGE }))
  }
  if (Option.isSome(flags.preset)) return Effect.mapError(RetryPolicy.preset(flags.preset.value), invalid)
  if (flags.env) {
    return Effect.mapError(
      Config.nested(RetryPolicy.config, "RETRY"),
      (error) =>
        new CliFailure({
          message: `Invalid retry policy in the environment: ${describeConfigError(error)}`,
          exitCode: USAGE
        })
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
    if (Option.isSome(flags.retryAfterMax) || Option.isSome(flags.whenAboveMax)) {
      overrides.retryAfter = {
        ...(base.retryAfter === false ? {} : base.retryAfter),
        ...Option.match(flags.retryAfterMax, { onNone: () => ({}), onSome: (max) => ({ max }) }),
        ...Option.match(flags.whenAboveMax, { onNone: () => ({}), onSome: (whenAboveMax) => ({ whenAboveMax }) })
      }
    }
    if (Object.keys(overrides).length === 0) return Effect.succeed(base)
    return Effect.mapError(RetryPolicy.decode({ ...RetryPolicy.toOptions(base), ...overrides }), invalid)
  })

/** The names of the policy flags that were given, as typed ("--max-attempts"). */
export const givenFlags = (flags: PolicyFlags): Array<string> =>
  (Object.keys(policyFlags) as Array<keyof typeof policyFlags>)
    .filter((key) => Option.isSome(flags[key]))
    .map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)

/** All the flags that pick a policy, for a command's config. */
export const allPolicyFlags = { ...policyFlags, ...sourceFlags }
