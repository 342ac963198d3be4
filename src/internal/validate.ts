/**
 * Option checks for the modules whose options are not a policy's (budgets,
 * HTTP options, an error's `retryAfter`), as functions that throw
 * `InvalidRetryPolicy`. They are the checks of the policy options' Schema
 * (`policyOptions.ts`), so a value means the same everywhere.
 */
import type * as Duration from "effect/Duration"
import * as Options from "./policyOptions.js"
import { InvalidRetryPolicy } from "./errors.js"

export const describeValue = Options.describeValue

export const invalid = (field: string, value: unknown, allowed: string): InvalidRetryPolicy =>
  new InvalidRetryPolicy({ field, value: describeValue(value), allowed })

/** Decodes a duration option, rejecting negative, NaN, malformed and overflowing values. */
export const duration = (field: string, value: unknown): Duration.Duration =>
  Options.orThrow(field, Options.duration, value)

/** Decodes a duration option that must be finite. */
export const finiteDuration = (field: string, value: unknown): Duration.Duration =>
  Options.orThrow(field, Options.finiteDuration, value)

/** Decodes an integer option with a lower bound. */
export const integerAtLeast = (field: string, value: unknown, min: number): number =>
  Options.orThrow(field, Options.integerAtLeast(min), value)

/** Decodes a finite number option with a lower bound. */
export const numberAtLeast = (field: string, value: unknown, min: number): number =>
  Options.orThrow(field, Options.numberAtLeast(min), value)

/** Decodes an option that must be one of a fixed set of strings. */
export const oneOf = <const A extends ReadonlyArray<string>>(field: string, value: unknown, allowed: A): A[number] =>
  Options.orThrow(field, Options.oneOf(allowed), value)

/** Decodes an optional flag: `true`, `false` or left out (`undefined`); `"true"` or `1` is rejected. */
export const optionalBoolean = (field: string, value: unknown): boolean | undefined => {
  if (value === undefined || typeof value === "boolean") return value
  throw invalid(field, value, "true or false")
}

/** Decodes an optional label. */
export const label = (field: string, value: unknown): string => Options.orThrow(field, Options.label, value)

/** Rejects keys that the option shape does not have, so a typo is an error rather than a silent default. */
export const knownKeys = (field: string, value: object, keys: ReadonlyArray<string>): void => {
  const extra = Options.unknownKey(value, keys)
  if (extra !== undefined) {
    throw new InvalidRetryPolicy({
      field: [field, ...extra.path].filter((s) => s !== "").join("."),
      value: "present",
      allowed: extra.allowed
    })
  }
}

/** Asserts that an options value is a plain object. */
export const record = (field: string, value: unknown): Readonly<Record<string, unknown>> => {
  if (Options.isRecord(value)) return value
  throw invalid(field, value, "an object of options")
}

/** Decodes a duration option to milliseconds that must be greater than `min`. */
export const millisAbove = (field: string, value: unknown, min: number): number => {
  const millis = Options.millisOf(duration(field, value))
  if (millis > min && Number.isFinite(millis)) return millis
  throw invalid(field, value, `a finite duration above ${min} ms`)
}
