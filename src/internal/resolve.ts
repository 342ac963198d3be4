/**
 * Decoding of the option values shared by the policy and the schedule
 * combinators, with errors that name the field.
 */
import * as Duration from "effect/Duration"
import * as Defaults from "./defaults.js"
import type * as Delay from "./delay.js"
import * as Validate from "./validate.js"
import type { Jitter, RetryAfterOptions } from "../RetrySchedule.js"

const JITTER_RANGE = /^\s*(\d+(?:\.\d+)?)\s*\.\.\s*(\d+(?:\.\d+)?)\s*$/

/**
 * Decodes a jitter option: a name, a `{ min, max }` range, or the same range
 * written as text ("0.75..1.25", the form used by `RetryPolicy.decode`, the
 * environment and the CLI).
 */
export const resolveJitter = (field: string, jitter: unknown): Jitter => {
  if (typeof jitter === "string") {
    const range = JITTER_RANGE.exec(jitter)
    if (range !== null) return resolveJitter(field, { min: Number(range[1]), max: Number(range[2]) })
    if ((Defaults.jitterNames as ReadonlyArray<string>).includes(jitter.trim())) return jitter.trim() as Jitter
    const names = Defaults.jitterNames.map((name) => JSON.stringify(name)).join(", ")
    throw Validate.invalid(field, jitter, `one of ${names}, or a range such as "0.75..1.25"`)
  }
  const range = Validate.record(field, jitter)
  Validate.knownKeys(field, range, ["min", "max"])
  const min = Validate.numberAtLeast(`${field}.min`, range.min, 0)
  const max = Validate.numberAtLeast(`${field}.max`, range.max, 0)
  if (min > max) throw Validate.invalid(`${field}.min`, min, `a number <= ${field}.max (${max})`)
  return { min, max }
}

/** Decodes Retry-After rules, filling in the defaults, into milliseconds. */
export const resolveRetryAfter = (field: string, options: RetryAfterOptions): Delay.HintRules => {
  Validate.knownKeys(field, Validate.record(field, options), ["max", "whenAboveMax", "spread"])
  return {
    maxMillis: Duration.toMillis(Validate.duration(`${field}.max`, options.max ?? Defaults.retryAfter.max)),
    whenAboveMax: Validate.oneOf(`${field}.whenAboveMax`, options.whenAboveMax ?? "fail", Defaults.whenAboveMaxNames),
    spread: Validate.numberAtLeast(`${field}.spread`, options.spread ?? Defaults.retryAfter.spread, 0)
  }
}

