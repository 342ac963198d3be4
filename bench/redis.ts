/**
 * Redis benchmark (effect-retry/redis): against a redis-server of its own on
 * loopback, how many Redis commands a call costs, read from
 * `INFO commandstats` (script calls, EVAL or EVALSHA, are the round trips;
 * the commands a script runs inside the server are listed apart), and the
 * latency a retry gains from drawing on a shared budget instead of an
 * in-memory one (median and p99 of the withdrawal). Skipped, with a line
 * saying so, where no redis-server is installed.
 */
import { Effect, Layer, Logger, LogLevel } from "effect"
import { performance } from "node:perf_hooks"
import { redisServerPath, startRedis } from "../test/support/redisServer.js"
import { commandsBetween, commandStats, observer, scriptCalls, total } from "../test/support/redisStats.js"
import { RedisBudget, RedisStore, Retry, RetryBudget, RetryPolicy } from "./library.js"

const SUCCESSES = 20_000
const RETRIES = 2_000

const quantile = (values: ReadonlyArray<number>, q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

class Busy {
  readonly _tag = "Busy"
  readonly isRetryable = true
}

export interface RedisFigures {
  readonly skipped?: string
  readonly lines: ReadonlyArray<string>
}

export const redisFigures = async (): Promise<RedisFigures> => {
  if (redisServerPath === undefined) return { skipped: "redis-server is not on PATH", lines: [] }
  const server = await startRedis()
  const watch = observer(server.port)
  try {
    const policy = RetryPolicy.make({ baseDelay: 0, jitter: "none", maxAttempts: 2 })
    const store = RedisStore.layer({ url: server.url, prefix: "bench:", connectTimeout: "5 seconds" })
    const lines: Array<string> = []
    await Effect.runPromise(Effect.gen(function*() {
      const shared = yield* RedisBudget.makeTokenBucket({ name: "bench", capacity: 1e9 })
      const sharedRatio = yield* RedisBudget.makeRatio({ name: "bench", minPerSecond: 1e6 })
      const local = yield* RetryBudget.makeTokenBucket({ capacity: 1e9 })

      // First-attempt successes: zero commands each; refunds and counts go in the 200 ms flushes.
      for (const [label, budget] of [["token bucket", shared], ["ratio", sharedRatio]] as const) {
        const before = yield* Effect.promise(() => commandStats(watch))
        const start = performance.now()
        for (let i = 0; i < SUCCESSES; i++) yield* Retry.retry(Effect.succeed(i), policy, { budget })
        // Long enough for at least one flush to have gone out.
        yield* Effect.sleep("450 millis")
        const seconds = (performance.now() - start) / 1000
        const diff = commandsBetween(before, yield* Effect.promise(() => commandStats(watch)))
        lines.push(
          `  ${SUCCESSES.toLocaleString("en-US")} first-attempt successes, shared ${label}: ${scriptCalls(diff)} script calls in ${
            seconds.toFixed(2)
          } s, all of them flushes (${(scriptCalls(diff) / seconds).toFixed(1)} per second), ` +
            `${(scriptCalls(diff) / SUCCESSES).toFixed(5)} per call; commands in all: ${total(diff)}`
        )
      }

      // Retries: the withdrawal timed on its own, shared against in-memory, interleaved.
      const timings = { shared: [] as Array<number>, local: [] as Array<number>, ratio: [] as Array<number> }
      const beforeRetries = yield* Effect.promise(() => commandStats(watch))
      for (let i = 0; i < RETRIES; i++) {
        for (const [key, budget] of [["shared", shared], ["local", local], ["ratio", sharedRatio]] as const) {
          const start = performance.now()
          yield* budget.withdraw("error")
          timings[key].push((performance.now() - start) * 1000)
        }
      }
      const retryDiff = commandsBetween(beforeRetries, yield* Effect.promise(() => commandStats(watch)))
      // Whole calls that fail once and then succeed, through Retry.retry, to count commands per retry.
      const beforeCalls = yield* Effect.promise(() => commandStats(watch))
      for (let i = 0; i < RETRIES; i++) {
        let attempts = 0
        const flaky = Effect.suspend(() => ++attempts === 1 ? Effect.fail(new Busy()) : Effect.succeed(attempts))
        yield* Retry.retry(flaky, policy, { budget: shared })
      }
      const callDiff = commandsBetween(beforeCalls, yield* Effect.promise(() => commandStats(watch)))
      const us = (value: number) => `${value.toFixed(0)} µs`
      lines.push(
        `  withdrawal per retry, ${RETRIES.toLocaleString("en-US")} each, interleaved: ` +
          `shared token bucket median ${us(quantile(timings.shared, 0.5))}, p99 ${us(quantile(timings.shared, 0.99))}; ` +
          `shared ratio median ${us(quantile(timings.ratio, 0.5))}, p99 ${us(quantile(timings.ratio, 0.99))}; ` +
          `in-memory median ${us(quantile(timings.local, 0.5))}, p99 ${us(quantile(timings.local, 0.99))}`,
        `  added latency per retry (shared token bucket minus in-memory): median ${
          us(quantile(timings.shared, 0.5) - quantile(timings.local, 0.5))
        }, p99 ${us(quantile(timings.shared, 0.99) - quantile(timings.local, 0.99))}`,
        `  script calls per shared withdrawal: ${(scriptCalls(retryDiff) / (2 * RETRIES)).toFixed(3)}`,
        `  ${RETRIES.toLocaleString("en-US")} calls through Retry.retry that fail once then succeed, shared token bucket: ` +
          `${scriptCalls(callDiff)} script calls, ${(scriptCalls(callDiff) / RETRIES).toFixed(3)} per retry ` +
          `(the rest flushes of refunds); commands run inside the scripts: ${total(callDiff) - scriptCalls(callDiff)}`
      )
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(store, Logger.minimumLogLevel(LogLevel.Error)))))
    return { lines }
  } finally {
    watch.disconnect()
    await server.stop()
  }
}
