/**
 * `effect-retry simulate`: the contention, amplification and fleet scenarios
 * of `./simulation.js`, as a command. It checks that --out can be written,
 * runs them (virtual time, seeded, so the numbers are the same on every run),
 * prints their tables and writes contention.json, amplification.json,
 * fleet.json and contention.svg into --out. The policy flags of `explain`
 * (--preset, --jitter, ...) set the callers' policy and add a contention row.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { valueFlag } from "./argv.js"
import { CliFailure, FAILURE, USAGE } from "./errors.js"
import { allPolicyFlags, attemptsOrigin, givenFlags, resolvePolicy } from "./options.js"
import {
  defaultOptions,
  formatTables,
  type LatencyShape,
  runAmplification,
  runContention,
  runFleet,
  type SimulationOptions,
  strategiesWithPolicy,
  writeReport
} from "./simulation.js"

const outFlag = Options.text(valueFlag("out", "DIR")).pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription(
    "The directory to write contention.json, amplification.json, fleet.json and contention.svg to, created if " +
      "needed and checked before the run (default: simulation)."
  ),
  Options.withDefault("simulation")
)

const seedFlag = Options.text(valueFlag("seed", "N")).pipe(
  Options.withPseudoName("N"),
  Options.withDescription(`The seed of every random draw, an integer (default ${defaultOptions.seed}): the same seed gives the same numbers.`),
  Options.optional
)

const latencies: ReadonlyArray<LatencyShape> = ["normal", "uniform"]

const latencyFlag = Options.text(valueFlag("latency", "SHAPE")).pipe(
  Options.withPseudoName("SHAPE"),
  Options.withDescription(
    `How each one-way network latency is drawn: normal, |N(${defaultOptions.latencyMillis} ms, ` +
      `${defaultOptions.latencySpreadMillis} ms)| as the study's simulator drew it (the default), or uniform, ` +
      `${defaultOptions.latencyMillis} ± ${defaultOptions.latencySpreadMillis} ms.`
  ),
  Options.optional
)

const usage = (message: string) => new CliFailure({ message, exitCode: USAGE })

// The amplification scenario alone simulates 6,000 calls against a backend
// that is down: each makes every attempt the policy allows.
const MAX_SIMULATED_ATTEMPTS = 100

const seedOf = (flag: Option.Option<string>): Effect.Effect<number, CliFailure> => {
  if (Option.isNone(flag)) return Effect.succeed(defaultOptions.seed)
  const seed = Number(flag.value)
  return /^\s*[+-]?\d+\s*$/.test(flag.value) && Number.isSafeInteger(seed)
    ? Effect.succeed(seed)
    : Effect.fail(usage(`Invalid value for --seed: ${JSON.stringify(flag.value)}, expected an integer.`))
}

const latencyOf = (flag: Option.Option<string>): Effect.Effect<LatencyShape, CliFailure> => {
  if (Option.isNone(flag)) return Effect.succeed(defaultOptions.latencyShape)
  const shape = latencies.find((name) => name === flag.value.trim())
  return shape === undefined
    ? Effect.fail(usage(`Invalid value for --latency: ${JSON.stringify(flag.value)}, expected one of ${latencies.join(", ")}.`))
    : Effect.succeed(shape)
}

/**
 * Fails unless `dir` can be written: creates it if needed, then writes and
 * removes a probe file, so that an unwritable folder is reported before the
 * run rather than after it.
 */
const checkWritable = (dir: string): Effect.Effect<void, CliFailure, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const probe = path.join(dir, `.effect-retry-write-check-${process.pid}`)
    yield* fs.makeDirectory(dir, { recursive: true }).pipe(
      Effect.zipRight(fs.writeFileString(probe, "")),
      Effect.zipRight(fs.remove(probe)),
      Effect.mapError((error) => usage(`Cannot write to --out ${dir}: ${error.message}`))
    )
  })

/** The `simulate` command. */
export const command = Command.make(
  "simulate",
  { out: outFlag, seed: seedFlag, latency: latencyFlag, ...allPolicyFlags },
  (flags) =>
    Effect.gen(function*() {
      const seed = yield* seedOf(flags.seed)
      const latencyShape = yield* latencyOf(flags.latency)
      const ownPolicy = flags.env || Option.isSome(flags.preset) || givenFlags(flags).length > 0
      const policy = yield* resolvePolicy(flags)
      if (policy.maxAttempts > MAX_SIMULATED_ATTEMPTS) {
        return yield* usage(
          `Invalid value for ${attemptsOrigin(flags)}: simulate takes at most ${MAX_SIMULATED_ATTEMPTS} attempts, since ` +
            `each of the thousands of calls it simulates may make that many (explain shows a policy of any size).`
        )
      }
      yield* checkWritable(flags.out)
      const options: Partial<SimulationOptions> = {
        seed,
        latencyShape,
        policy,
        ...(ownPolicy ? { strategies: strategiesWithPolicy } : {})
      }
      const results = {
        contention: yield* runContention(options),
        amplification: yield* runAmplification(options),
        fleet: yield* runFleet(options)
      }
      yield* Console.log(formatTables(results))
      const written = yield* writeReport(flags.out, results).pipe(
        Effect.mapError((error) => new CliFailure({ message: `Cannot write the report: ${error.message}`, exitCode: FAILURE }))
      )
      yield* Console.log(`\nWrote ${written.join(", ")}`)
    })
).pipe(
  Command.withDescription(
    "Simulate many clients retrying against a contended store (per jitter kind, after the AWS study), against a " +
      "backend in full outage (per retry budget), and a fleet of processes (a budget each, or one shared). " +
      "Seeded virtual time: the same numbers on every run. A run takes about 25 s of CPU time (measured), longer on a busy machine."
  )
)
