import { isTimeoutException } from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import type { TaggedErrorConstructor } from "../Retryable.js"
import * as Validate from "./validate.js"

// The bodies of `Retryable`: reading the protocol off any value, and the
// error classes that follow it.

const readProperty = (u: unknown, key: string): unknown =>
  (typeof u === "object" && u !== null) || typeof u === "function" ? (u as Record<string, unknown>)[key] : undefined

/** The body of `Retryable.isRetryable`. */
export const isRetryable = (u: unknown): boolean => readProperty(u, "isRetryable") === true || isTimeoutException(u)

/** The body of `Retryable.retryAfter`. */
export const retryAfter = (u: unknown): Option.Option<Duration.Duration> => {
  const value = readProperty(u, "retryAfter")
  if (value === undefined || value === null) return Option.none()
  if (Duration.isDuration(value)) return Option.some(value)
  try {
    return Option.some(Validate.duration("retryAfter", value))
  } catch {
    return Option.none()
  }
}

const taggedErrorWith = <Tag extends string, R extends boolean>(
  tag: Tag,
  retryable: R
): TaggedErrorConstructor<Tag, R> => {
  class Base extends Data.TaggedError(tag)<{}> {
    get isRetryable(): R {
      return retryable
    }
  }
  return Base as any
}

/** The body of `Retryable.TaggedError`. */
export const TaggedError = <Tag extends string>(tag: Tag): TaggedErrorConstructor<Tag, true> =>
  taggedErrorWith(tag, true)

/** The body of `Retryable.PermanentError`. */
export const PermanentError = <Tag extends string>(tag: Tag): TaggedErrorConstructor<Tag, false> =>
  taggedErrorWith(tag, false)
