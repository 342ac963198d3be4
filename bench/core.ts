/**
 * Core benchmarks: what retrying costs on the success path and per retry.
 * Every figure is measured in this run; ratios compare rows of the same run.
 */
import { Effect, Logger, LogLevel, Schedule } from "effect"
import { performance } from "node:perf_hooks"
import { Retry, RetryPolicy } from "../src/index.js"

export interface Row {
  readonly name: string
  readonly nsPerOp: number
}

const repeat = <A, E>(n: number, once: Effect.Effect<A, E>): Effect.Effect<void, E> => {
  const loop = (i: number): Effect.Effect<void, E> => i === 0 ? Effect.void : Effect.flatMap(once, () => loop(i - 1))
  return loop(n)
}

/** Runs `make(n)` as one Effect program and returns ns per operation, best of `rounds`. */
export const measure = async (name: string, n: number, program: Effect.Effect<unknown, unknown>, rounds = 5) => {
  let best = Infinity
  for (let round = 0; round < rounds; round++) {
    const start = performance.now()
    await Effect.runPromise(Effect.either(program))
    best = Math.min(best, ((performance.now() - start) * 1e6) / n)
  }
  return { name, nsPerOp: best } satisfies Row
}

const succeed = Effect.succeed(1)
const policy = RetryPolicy.default
const equivalent = RetryPolicy.toSchedule(policy)

/** Runs an effect that fails `failures` times before it succeeds, wrapped by `wrap`, once. */
const flakyCall = (failures: number, wrap: (self: Effect.Effect<number, Flaky>) => Effect.Effect<number, Flaky>) =>
  Effect.suspend(() => {
    let left = failures
    return wrap(Effect.suspend(() => (left-- > 0 ? Effect.fail(flakyError) : succeed)))
  })

interface Flaky {
  readonly isRetryable: true
}
const flakyError: Flaky = { isRetryable: true }

export const successPath = async (n = 200_000) => [
  await measure("bare effect", n, repeat(n, succeed)),
  await measure("Effect.retry(toSchedule(policy))", n, repeat(n, Effect.retry(succeed, equivalent))),
  await measure("Effect.retry(Schedule.recurs(2))", n, repeat(n, Effect.retry(succeed, Schedule.recurs(2)))),
  await measure("Retry.retry(policy)", n, repeat(n, Retry.retry(succeed, policy)))
]

/**
 * Per-retry cost with zero delays: calls that fail `failures` times then
 * succeed, under each retry combinator. Retry.retry's per-retry log line is
 * filtered out by the caller's minimum log level, as a production sink would
 * not print to a terminal.
 */
export const perRetry = async (calls = 20_000, failures = 4) => {
  const zeroDelays = RetryPolicy.make({ baseDelay: 0, jitter: "none", maxAttempts: failures + 1 })
  const zeroDelaySchedule = RetryPolicy.toSchedule(zeroDelays)
  const ops = calls * failures
  const quiet = <A, E>(self: Effect.Effect<A, E>) => Logger.withMinimumLogLevel(self, LogLevel.Error)
  return [
    await measure("Effect.retry(Schedule.recurs) per retry", ops,
      repeat(calls, flakyCall(failures, (self) => Effect.retry(self, Schedule.recurs(failures))))),
    await measure("Effect.retry(toSchedule(zero-delay policy)) per retry", ops,
      repeat(calls, flakyCall(failures, (self) => Effect.retry(self, zeroDelaySchedule)))),
    await measure("Retry.retry(zero-delay policy) per retry", ops,
      quiet(repeat(calls, flakyCall(failures, (self) => Retry.retry(self, zeroDelays)))))
  ]
}
