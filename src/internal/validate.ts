import * as Duration from "effect/Duration"
import { InvalidRetryPolicy } from "./errors.js"

const DURATION_STRING = /^\s*(\d+(?:\.\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)\s*$/
const MILLIS_STRING = /^\s*\d+\s*$/

const invalid = (field: string, value: unknown, allowed: string): InvalidRetryPolicy =>
  new InvalidRetryPolicy({ field, value: describeValue(value), allowed })

/** Renders a rejected option value for an error message without dumping large objects. */
export const describeValue = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (value === null || value === undefined) return String(value)
  if (Duration.isDuration(value)) return Duration.format(value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  return `a ${typeof value}`
}

const DURATION_ALLOWED = "a non-negative duration: a Duration, milliseconds as a number, or a string such as \"500 millis\""

/** Decodes a duration option, rejecting negative, NaN and malformed values instead of clamping them to zero. */
export const duration = (field: string, value: unknown): Duration.Duration => {
  if (Duration.isDuration(value)) return value
  if (typeof value === "number") {
    if (Number.isNaN(value) || value < 0) throw invalid(field, value, DURATION_ALLOWED)
    return Duration.millis(value)
  }
  if (typeof value === "bigint") {
    if (value < BigInt(0)) throw invalid(field, value, DURATION_ALLOWED)
    return Duration.nanos(value)
  }
  if (typeof value === "string") {
    if (MILLIS_STRING.test(value)) return Duration.millis(Number(value))
    if (DURATION_STRING.test(value)) return Duration.decode(value.trim() as Duration.DurationInput)
  }
  if (
    Array.isArray(value) && value.length === 2 &&
    value.every((part) => typeof part === "number" && part >= 0 && !Number.isNaN(part))
  ) {
    return Duration.decode(value as [number, number])
  }
  throw invalid(field, value, DURATION_ALLOWED)
}

/** Decodes an integer option with a lower bound. */
export const integerAtLeast = (field: string, value: unknown, min: number): number => {
  if (typeof value === "number" && Number.isInteger(value) && value >= min) return value
  throw invalid(field, value, `an integer >= ${min}`)
}

/** Decodes a finite number option with a lower bound. */
export const numberAtLeast = (field: string, value: unknown, min: number): number => {
  if (typeof value === "number" && Number.isFinite(value) && value >= min) return value
  throw invalid(field, value, `a finite number >= ${min}`)
}

/** Decodes an option that must be one of a fixed set of strings. */
export const oneOf = <const A extends ReadonlyArray<string>>(field: string, value: unknown, allowed: A): A[number] => {
  if (typeof value === "string" && allowed.includes(value)) return value
  throw invalid(field, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`)
}

/** Decodes an optional label. */
export const label = (field: string, value: unknown): string => {
  if (typeof value === "string" && value.length > 0) return value
  throw invalid(field, value, "a non-empty string")
}

/** Rejects keys that the option shape does not have, so a typo is an error rather than a silent default. */
export const knownKeys = (field: string, value: object, keys: ReadonlyArray<string>): void => {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new InvalidRetryPolicy({
        field: field === "" ? key : `${field}.${key}`,
        value: "present",
        allowed: `no such option; known options are ${keys.join(", ")}`
      })
    }
  }
}

/** Asserts that an options value is a plain object. */
export const record = (field: string, value: unknown): Readonly<Record<string, unknown>> => {
  if (typeof value === "object" && value !== null && !Array.isArray(value) && !Duration.isDuration(value)) {
    return value as Record<string, unknown>
  }
  throw invalid(field, value, "an object of options")
}

export { invalid }

/** Decodes a duration option to milliseconds that must be greater than `min`. */
export const millisAbove = (field: string, value: unknown, min: number): number => {
  const millis = Duration.toMillis(duration(field, value))
  if (millis > min && Number.isFinite(millis)) return millis
  throw invalid(field, value, `a finite duration above ${min} ms`)
}
