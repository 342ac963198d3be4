#!/usr/bin/env node
/**
 * The `effect-retry` command-line tool: `demo`, `explain` and `simulate`
 * (./app.js), run in this process.
 *
 * Exit statuses: 0 on success, 1 when a command fails, 2 for a usage error (an
 * unknown flag, an invalid policy), 130 when interrupted (Ctrl+C).
 */
import "./scriptCwd.js"
import { main } from "./app.js"

// `effect-retry explain | head` closes the pipe early: stop quietly, as other command-line tools do,
// instead of crashing with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0)
    throw error
  })
}

main(process.argv.slice(2))
