#!/usr/bin/env node
/**
 * The `effect-retry` command-line tool: `demo`, `explain` and `simulate`
 * (./app.js), run in this process.
 *
 * Exit statuses: 0 on success, 1 when a command fails, 2 for a usage error (an
 * unknown flag, an invalid policy), 130 when interrupted (Ctrl+C).
 */
import "./scriptCwd.js"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { INTERRUPTED, run } from "./app.js"
import { ExitStatus, FAILURE } from "./errors.js"

// `effect-retry explain | head` closes the pipe early: stop quietly, as other command-line tools do,
// instead of crashing with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0)
    throw error
  })
}

NodeRuntime.runMain(run(process.argv.slice(2)).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(0)
    const failure = Cause.failureOption(exit.cause as Cause.Cause<unknown>)
    if (Option.isSome(failure) && failure.value instanceof ExitStatus) return onExit(failure.value.code)
    onExit(Cause.isInterruptedOnly(exit.cause) ? INTERRUPTED : FAILURE)
  }
})
