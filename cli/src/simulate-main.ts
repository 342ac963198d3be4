/**
 * `npm run simulate [--out DIR]`: runs the contention and amplification
 * simulations and the fleet scenario (local vs shared budgets), prints their
 * tables and writes contention.json, amplification.json, fleet.json and
 * contention.svg into DIR (default ./simulation).
 */
import "./scriptCwd.js"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { formatTables, runAmplification, runContention, runFleet, runLatencyCheck, writeReport } from "./simulation.js"

const usage = "usage: npm run simulate [-- --out DIR]"

/** The output directory named by `--out DIR` or `--out=DIR`, "simulation" by default. */
const parseOutDir = (args: ReadonlyArray<string>): Either.Either<string, string> => {
  const [flag, value, ...rest] = args
  if (flag === undefined) return Either.right("simulation")
  if (flag.startsWith("--out=") && value === undefined) return Either.right(flag.slice("--out=".length))
  if (flag === "--out" && value !== undefined && rest.length === 0) return Either.right(value)
  return Either.left(usage)
}

const main = Effect.gen(function*() {
  const outDir = parseOutDir(process.argv.slice(2))
  if (Either.isLeft(outDir)) {
    yield* Console.error(outDir.left)
    return yield* Effect.sync(() => void (process.exitCode = 2))
  }
  const results = {
    contention: yield* runContention(),
    latencyCheck: yield* runLatencyCheck(),
    amplification: yield* runAmplification(),
    fleet: yield* runFleet()
  }
  yield* Console.log(formatTables(results))
  const written = yield* writeReport(outDir.right, results)
  yield* Console.log(`\nWrote ${written.join(", ")}`)
})

NodeRuntime.runMain(main)
