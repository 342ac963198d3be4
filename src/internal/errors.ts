import * as Data from "effect/Data"

/**
 * Raised when retry policy options are invalid. The message names the field,
 * the value and what is allowed.
 *
 * @internal
 */
export class InvalidRetryPolicy extends Data.TaggedError("InvalidRetryPolicy")<{
  readonly field: string
  readonly value: string
  readonly allowed: string
}> {
  override get message(): string {
    return `Invalid retry policy: ${this.field} is ${this.value}, expected ${this.allowed}`
  }
}
