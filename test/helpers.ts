/**
 * Shared test helpers: error classes, an attempt recorder, a TestClock runner,
 * an event collector and a log capturer.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as Random from "effect/Random"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as TestClock from "effect/TestClock"
import { Retryable } from "../src/index.js"
import type { RetryEvent } from "../src/index.js"

/** A retryable error that may carry a Retry-After hint. */
export class Busy extends Retryable.TaggedError("Busy")<{
  readonly retryAfter?: Duration.DurationInput
  readonly n?: number
}> {}

/** An error that is never retried. */
export class Fatal extends Retryable.PermanentError("Fatal")<{ readonly reason: string }> {}

/**
 * Wraps a function of the 1-based attempt number into an effect that records
 * the clock time at which each attempt starts.
 */
export const track = <A, E, R>(f: (attempt: number) => Effect.Effect<A, E, R>) => {
  const times: Array<number> = []
  const effect: Effect.Effect<A, E, R> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    times.push(now)
    return f(times.length)
  })
  return { effect, times }
}

/** `Random.fixed` over a list of draws (cycled). */
export const draws = (values: ReadonlyArray<number>) => Random.fixed(values as [number, ...Array<number>])

/** Attempt times relative to the first attempt. */
export const relative = (times: ReadonlyArray<number>): Array<number> => times.map((t) => t - (times[0] ?? 0))

/** An effect that always fails with a fresh retryable `Busy` error. */
export const alwaysBusy = () => track((n) => Effect.fail(new Busy({ n })))

/** An effect that fails with `Busy` until attempt `successAt`, then succeeds with `value`. */
export const busyUntil = <A>(successAt: number, value: A) =>
  track((n) => n < successAt ? Effect.fail(new Busy({ n })) : Effect.succeed(value))

/**
 * Forks `effect`, advances the TestClock by `advance` (all sleeps due by then
 * run, in order), and returns the fiber's exit.
 */
export const runClocked = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  advance: Duration.DurationInput = "1 hour"
): Effect.Effect<Exit.Exit<A, E>, never, R> =>
  Effect.gen(function*() {
    // Effect.exit inside the fiber: a failed fiber would otherwise log "Fiber terminated with an unhandled error"
    const fiber = yield* Effect.fork(Effect.exit(effect))
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

/** Collects the events passed to `onEvent`. */
export const collectEvents = () => {
  const events: Array<RetryEvent.RetryEvent> = []
  const onEvent = (event: RetryEvent.RetryEvent) => Effect.sync(() => void events.push(event))
  return { events, onEvent }
}

/** A captured log line. */
export interface CapturedLog {
  readonly level: string
  readonly message: ReadonlyArray<unknown>
  readonly annotations: Record<string, unknown>
  readonly spans: ReadonlyArray<string>
  readonly cause: string
}

/**
 * A logger that records every line (all levels), and a layer that installs it
 * in place of the default logger.
 */
export const captureLogs = () => {
  const logs: Array<CapturedLog> = []
  const logger = Logger.make(({ annotations, cause, logLevel, message, spans }) => {
    logs.push({
      level: logLevel.label,
      message: Array.isArray(message) ? message : [message],
      annotations: Object.fromEntries(HashMap.toEntries(annotations)),
      spans: List.toArray(spans).map((span) => span.label),
      cause: Cause.isEmpty(cause) ? "" : Cause.pretty(cause)
    })
  })
  const layer = Layer.merge(
    Logger.replace(Logger.defaultLogger, logger),
    Logger.minimumLogLevel(LogLevel.All)
  )
  return { logs, layer }
}

/** Everything a log line holds, as one string, to search for leaked text. */
export const logText = (log: CapturedLog): string =>
  [
    ...log.message.map((part) => typeof part === "string" ? part : JSON.stringify(part)),
    JSON.stringify(log.annotations),
    ...Object.values(log.annotations).map(String),
    ...log.spans,
    log.cause
  ].join("\n")
