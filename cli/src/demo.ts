/**
 * `effect-retry demo`: a real HTTP round trip on the loopback interface, with
 * retries shown as they happen. This module only declares the command; the
 * server, the client and the output live in `./demoRun.js`, imported when the
 * command runs, because the HTTP server modules take most of the CLI's
 * start-up time and `explain` or `--help` do not need them.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import { booleanFlag, valueFlag } from "./argv.js"
import { CliFailure, USAGE } from "./errors.js"
import { allPolicyFlags, resolvePolicy } from "./options.js"

/** The scenarios of the demo. */
export const scenarios = ["rate-limit", "outage", "flaky", "mid-body"] as const

/** A scenario's name. */
export type Scenario = (typeof scenarios)[number]

const scenarioFlag = Options.text(valueFlag("scenario", "NAME")).pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription(
    "How the embedded server misbehaves (default rate-limit): rate-limit (429 with Retry-After: 1, then 200), outage (503 until the " +
      "attempts run out), flaky (random 500, 502 or reset, then 200), mid-body (the body is cut off once; the client " +
      "buffers it, so the call is retried)."
  ),
  Options.withDefault("rate-limit")
)

/** The scenario named by --scenario, or a usage error that names the flag and the choices. */
const scenarioOf = (name: string): Effect.Effect<Scenario, CliFailure> =>
  (scenarios as ReadonlyArray<string>).includes(name)
    ? Effect.succeed(name as Scenario)
    : Effect.fail(
      new CliFailure({
        message: `Invalid value for --scenario: ${JSON.stringify(name)}, expected one of ${scenarios.join(", ")}.`,
        exitCode: USAGE
      })
    )

const verboseFlag = Options.boolean(booleanFlag("verbose")).pipe(
  Options.withDescription(
    "Also print the library's own log line for every retry and give-up (logfmt), under the attempt it belongs " +
      "to (off by default, with RetryLog)."
  )
)

/** The `demo` command. */
export const command = Command.make(
  "demo",
  { scenario: scenarioFlag, verbose: verboseFlag, ...allPolicyFlags },
  (flags) =>
    Effect.gen(function*() {
      const scenario = yield* scenarioOf(flags.scenario)
      const policy = yield* resolvePolicy(flags)
      const { main } = yield* Effect.promise(() => import("./demoRun.js"))
      yield* main({ ...flags, scenario }, policy)
    })
).pipe(
  Command.withDescription(
    "Watch retries happen: an HTTP server on 127.0.0.1 misbehaves as --scenario says, a client wrapped with " +
      "HttpRetry.withRetry calls it a few times under a live status line, then a table per call. " +
      "A few seconds with the default policy."
  )
)
