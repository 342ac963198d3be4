/**
 * `effect-retry simulate`: the contention and amplification simulations of
 * `./simulation.js`, as a command. It runs them (virtual time, seeded, so the
 * numbers are the same on every run), prints their tables and writes
 * contention.json, amplification.json and contention.svg into --out.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { valueFlag } from "./argv.js"
import { CliFailure, FAILURE } from "./errors.js"
import { formatTables, runAmplification, runContention, runLatencyCheck, writeReport } from "./simulation.js"

const outFlag = Options.text(valueFlag("out", "DIR")).pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription(
    "The directory to write contention.json, amplification.json and contention.svg to, created if needed (default: simulation)."
  ),
  Options.withDefault("simulation")
)

/** The `simulate` command. */
export const command = Command.make(
  "simulate",
  { out: outFlag },
  ({ out }) =>
    Effect.gen(function*() {
      const results = {
        contention: yield* runContention(),
        latencyCheck: yield* runLatencyCheck(),
        amplification: yield* runAmplification()
      }
      yield* Console.log(formatTables(results))
      const written = yield* writeReport(out, results).pipe(
        Effect.mapError((error) => new CliFailure({ message: `Cannot write the report: ${error.message}`, exitCode: FAILURE }))
      )
      yield* Console.log(`\nWrote ${written.join(", ")}`)
    })
).pipe(
  Command.withDescription(
    "Simulate many clients retrying against a contended store (per jitter kind) and against a backend in " +
      "full outage (per retry budget). Seeded virtual time: the same numbers on every run, in about ten seconds."
  )
)
