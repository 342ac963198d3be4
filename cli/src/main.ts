#!/usr/bin/env node
/**
 * The `effect-retry` command-line tool: `demo`, `explain` and `simulate`.
 *
 * Exit statuses: 0 on success, 1 when a command fails, 2 for a usage error (an
 * unknown flag, an invalid policy), 130 when interrupted (Ctrl+C).
 */
import "./scriptCwd.js"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Demo from "./demo.js"
import { CliFailure, ExitStatus, FAILURE, USAGE } from "./errors.js"
import * as Explain from "./explain.js"
import * as Simulate from "./simulate.js"
import { version } from "./version.js"

const INTERRUPTED = 130

// `effect-retry explain | head` closes the pipe early: stop quietly, as other command-line tools do,
// instead of crashing with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0)
    throw error
  })
}

const root = Command.make("effect-retry").pipe(
  Command.withDescription(
    "Retry policies for Effect programs, from the command line. Run a command with --help for its flags."
  ),
  Command.withSubcommands([Demo.command, Explain.command, Simulate.command])
)

/** Maps every way the program can end to the exit status it should have, printing what the user needs. */
const toExitStatus = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, ExitStatus, R> =>
  Effect.catchAllCause(effect, (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.fail(new ExitStatus({ code: INTERRUPTED }))
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      const error = failure.value
      if (error instanceof ExitStatus) return Effect.fail(error)
      if (error instanceof CliFailure) {
        return Effect.zipRight(Console.error(error.message), Effect.fail(new ExitStatus({ code: error.exitCode })))
      }
      // @effect/cli has printed the problem and the usage already.
      if (ValidationError.isValidationError(error)) return Effect.fail(new ExitStatus({ code: USAGE }))
    }
    return Effect.zipRight(Console.error(Cause.pretty(cause)), Effect.fail(new ExitStatus({ code: FAILURE })))
  })

const program = Effect.gen(function*() {
  const cli = Command.run(root, { name: "effect-retry", version: yield* version })
  yield* cli(process.argv)
}).pipe(
  toExitStatus,
  Effect.provide(NodeContext.layer)
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(0)
    const failure = Cause.failureOption(exit.cause as Cause.Cause<unknown>)
    if (Option.isSome(failure) && failure.value instanceof ExitStatus) return onExit(failure.value.code)
    onExit(Cause.isInterruptedOnly(exit.cause) ? INTERRUPTED : FAILURE)
  }
})
