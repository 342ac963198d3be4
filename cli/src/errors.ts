/**
 * How the CLI fails: a `CliFailure` carries the message to print (without a
 * stack trace) and the exit status.
 */
import * as Data from "effect/Data"

/** Exit status for a usage error: a bad flag or an invalid policy. */
export const USAGE = 2

/** Exit status for a command that could not do its work. */
export const FAILURE = 1

/** A failure reported to the user as one message and an exit status. */
export class CliFailure extends Data.TaggedError("CliFailure")<{
  readonly message: string
  readonly exitCode: number
}> {}

/** The exit status the process ends with, carried to the runtime's teardown. */
export class ExitStatus extends Data.TaggedError("ExitStatus")<{
  readonly code: number
}> {}
