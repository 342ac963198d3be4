/**
 * The `effect-retry` command line as an effect: `run(args)` parses the
 * arguments (without the node and script paths), runs the command and fails
 * with the `ExitStatus` the process should end with, having printed what the
 * user needs. main.ts runs it in the process; tests run it in process too.
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type * as Terminal from "@effect/platform/Terminal"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { argumentProblem, withTidyConsole } from "./argv.js"
import * as Demo from "./demo.js"
import { CliFailure, ExitStatus, FAILURE, USAGE } from "./errors.js"
import * as Explain from "./explain.js"
import * as Simulate from "./simulate.js"
import { version } from "./version.js"

/** Exit status when interrupted (Ctrl+C). */
export const INTERRUPTED = 130

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

/** Runs the command line on `args` (what follows the script path in `process.argv`). */
export const run = (
  args: ReadonlyArray<string>
): Effect.Effect<void, ExitStatus, CommandExecutor.CommandExecutor | FileSystem.FileSystem | Path.Path | Terminal.Terminal> =>
  Effect.gen(function*() {
    const problem = argumentProblem(args)
    if (problem !== undefined) return yield* Effect.fail(new CliFailure({ message: problem, exitCode: USAGE }))
    const cli = Command.run(root, { name: "effect-retry", version: yield* version })
    // @effect/cli skips the first two entries (node and the script).
    yield* withTidyConsole(cli(["node", "effect-retry", ...args]))
  }).pipe(toExitStatus)

/** Runs the command line on `args` as this process's program: the process ends with the command's exit status. */
export const main = (args: ReadonlyArray<string>): void =>
  NodeRuntime.runMain(run(args).pipe(Effect.provide(NodeContext.layer)), {
    disableErrorReporting: true,
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit)) return onExit(0)
      const failure = Cause.failureOption(exit.cause as Cause.Cause<unknown>)
      if (Option.isSome(failure) && failure.value instanceof ExitStatus) return onExit(failure.value.code)
      onExit(Cause.isInterruptedOnly(exit.cause) ? INTERRUPTED : FAILURE)
    }
  })
