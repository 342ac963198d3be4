/**
 * A tour of effect-retry in one run, with no network: a fake operation is
 * rate limited once (and says how long to wait), then hits a transient error,
 * then succeeds. Each retry event is printed with the time it happened.
 *
 *   npm run demo
 */
import { Clock, Console, Duration, Effect, Exit, Logger, LogLevel, Ref } from "effect"
import { Retry, Retryable, RetryEvent, RetryPolicy } from "effect-retry"

// A rate-limit error that carries the server's Retry-After hint. Errors made
// with Retryable.TaggedError are retried; `retryAfter` replaces the backoff.
class RateLimited extends Retryable.TaggedError("RateLimited")<{
  readonly retryAfter: Duration.DurationInput
}> {}

// An ordinary transient failure: retried with the policy's backoff.
class Unavailable extends Retryable.TaggedError("Unavailable")<{
  readonly service: string
}> {}

const program = Effect.gen(function*() {
  const startedAt = yield* Clock.currentTimeMillis
  const attempts = yield* Ref.make(0)

  // "[ 1.05s] message", the time measured from the start of the run.
  const print = (message: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const seconds = ((now - startedAt) / 1000).toFixed(2).padStart(5)
      return Console.log(`[${seconds}s] ${message}`)
    })

  // Fails with RateLimited, then Unavailable, then succeeds.
  const operation = Effect.gen(function*() {
    const attempt = yield* Ref.updateAndGet(attempts, (n) => n + 1)
    if (attempt === 1) {
      yield* print("attempt 1: rate limited, the server asks to wait 1 second")
      return yield* new RateLimited({ retryAfter: "1 second" })
    }
    if (attempt === 2) {
      yield* print("attempt 2: service unavailable")
      return yield* new Unavailable({ service: "inventory" })
    }
    yield* print(`attempt ${attempt}: ok`)
    return "42 items in stock"
  })

  const exit = yield* operation.pipe(
    Retry.retry(RetryPolicy.default, {
      onEvent: (event) => print(RetryEvent.format(event))
    }),
    Effect.exit
  )

  const finishedAt = yield* Clock.currentTimeMillis
  const total = ((finishedAt - startedAt) / 1000).toFixed(2)
  const count = yield* Ref.get(attempts)
  const result = Exit.match(exit, {
    onSuccess: (value) => `succeeded with "${value}"`,
    onFailure: () => "failed"
  })
  yield* Console.log(`\n${count} attempts in ${total}s: ${result}`)
})

// Retry.retry logs every retry at Warning level; keep this output to the lines above.
program.pipe(
  Effect.provide(Logger.minimumLogLevel(LogLevel.Error)),
  Effect.runPromise
)
