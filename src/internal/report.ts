import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as RetryEvent from "../RetryEvent.js"
import * as RetryMetrics from "../RetryMetrics.js"
import { RetryObserver } from "../RetryObserver.js"

/** A listener of retry events. */
export type Listener = (event: RetryEvent.RetryEvent) => Effect.Effect<void>

/** A short name for an error that never includes its message (which may hold a secret). */
export const errorTag = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const tag = (error as { readonly _tag?: unknown })._tag
    if (typeof tag === "string") return tag
    if (error instanceof Error) return error.name
    return "object"
  }
  return typeof error
}

const annotations = (event: RetryEvent.RetryEvent): Record<string, unknown> => {
  const common: Record<string, unknown> = { policy: Option.getOrElse(event.name, () => "unnamed") }
  if (event.http !== undefined) {
    common.method = event.http.method
    common.url = event.http.url
    if (event.http.status !== undefined) common.status = event.http.status
  }
  switch (event._tag) {
    case "Retrying":
      return {
        ...common,
        attempt: event.attempt,
        maxAttempts: event.maxAttempts,
        delayMs: Math.round(Duration.toMillis(event.delay)),
        error: errorTag(event.error)
      }
    case "Succeeded":
      return { ...common, attempts: event.attempts }
    case "GaveUp":
      return { ...common, attempts: event.attempts, reason: event.reason, error: errorTag(event.error) }
  }
}

const tagWithPolicy = <Type, In, Out>(metric: Metric.Metric<Type, In, Out>, event: RetryEvent.RetryEvent) =>
  Option.match(event.name, { onNone: () => metric, onSome: (name) => Metric.tagged(metric, "policy", name) })

const recordMetrics = (event: RetryEvent.RetryEvent): Effect.Effect<void> => {
  switch (event._tag) {
    case "Retrying":
      return Effect.zipRight(
        Metric.increment(tagWithPolicy(RetryMetrics.retries, event)),
        Metric.update(tagWithPolicy(RetryMetrics.delays, event), Duration.toMillis(event.delay))
      )
    case "Succeeded":
      return Metric.increment(tagWithPolicy(RetryMetrics.recoveries, event))
    case "GaveUp":
      return Metric.increment(Metric.tagged(tagWithPolicy(RetryMetrics.giveUps, event), "reason", event.reason))
  }
}

const log = (event: RetryEvent.RetryEvent, attributes: Record<string, unknown>): Effect.Effect<void> => {
  const text = RetryEvent.format(event)
  const quiet = event._tag === "Succeeded" || (event._tag === "GaveUp" && event.attempts === 1)
  return (quiet ? Effect.logDebug(text) : Effect.logWarning(text)).pipe(Effect.annotateLogs(attributes))
}

const spanEvent = (event: RetryEvent.RetryEvent, attributes: Record<string, unknown>): Effect.Effect<void> =>
  Effect.flatMap(Effect.option(Effect.currentSpan), (span) =>
    Option.isNone(span) ? Effect.void : Effect.map(Clock.currentTimeNanos, (now) =>
      span.value.event(`effect-retry.${event._tag}`, now, attributes)))

/** Runs a listener so that its defects are logged instead of failing the call being retried. */
const safely = (listener: Listener, event: RetryEvent.RetryEvent): Effect.Effect<void> =>
  Effect.catchAllCause(listener(event), (cause) => Effect.logError("effect-retry: an event listener failed", cause))

/**
 * Reports an event everywhere it goes: the log, the metrics, the current span,
 * the `RetryObserver` in scope and the call's own listener.
 */
export const report = (event: RetryEvent.RetryEvent, listener: Listener | undefined): Effect.Effect<void> => {
  const attributes = annotations(event)
  return Effect.all([
    log(event, attributes),
    recordMetrics(event),
    spanEvent(event, attributes),
    Effect.flatMap(
      Effect.serviceOption(RetryObserver),
      (observer) => Option.isSome(observer) ? safely(observer.value.report, event) : Effect.void
    ),
    listener === undefined ? Effect.void : safely(listener, event)
  ], { discard: true })
}
