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
import { allPolicyFlags, resolvePolicy } from "./options.js"

/** The scenarios of the demo. */
export const scenarios = ["rate-limit", "outage", "flaky", "mid-body"] as const

/** A scenario's name. */
export type Scenario = (typeof scenarios)[number]

const scenarioFlag = Options.choice("scenario", scenarios).pipe(
  Options.withDescription(
    "How the embedded server misbehaves: rate-limit (429 with Retry-After: 1, then 200), outage (503 until the " +
      "attempts run out), flaky (random 500, 502 or reset, then 200), mid-body (the body is cut off once; the client " +
      "buffers it, so the call is retried)."
  ),
  Options.withDefault("rate-limit" as Scenario)
)

const verboseFlag = Options.boolean("verbose").pipe(
  Options.withDescription("Also print the library's Warning log line for every retry (silenced by default).")
)

/** The `demo` command. */
export const command = Command.make(
  "demo",
  { scenario: scenarioFlag, verbose: verboseFlag, ...allPolicyFlags },
  (flags) =>
    Effect.gen(function*() {
      const policy = yield* resolvePolicy(flags)
      const { main } = yield* Effect.promise(() => import("./demoRun.js"))
      yield* main(flags, policy)
    })
).pipe(
  Command.withDescription(
    "Watch retries happen: an HTTP server on 127.0.0.1 misbehaves as --scenario says, a client wrapped with " +
      "HttpRetry.withRetry calls it a few times under a live status line, then a table per call. " +
      "A few seconds with the default policy."
  )
)
