import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import * as RetryEvent from "../RetryEvent.js"
import * as RetryMetrics from "../RetryMetrics.js"
import { RetryObserver } from "../RetryObserver.js"
import { clockOf } from "./fiberClock.js"
import * as RetryLog from "./retryLog.js"

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

// No error is named when nothing failed: a wait before a first attempt (for a
// cool-down), a give-up before any attempt, and a first attempt after such a
// wait that was interrupted or died. `Effect.fail(undefined)` is named.
const errorOf = (event: RetryEvent.Retrying | RetryEvent.GaveUp): { readonly error?: string } => {
  const nothingFailed = event._tag === "Retrying"
    ? event.attempt === 0
    : event.attempts === 0 ||
      (event.error === undefined && (event.reason === "interrupted" || event.reason === "defect"))
  return nothingFailed ? {} : { error: errorTag(event.error) }
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
        ...(event.delayFrom === undefined ? {} : { delayFrom: event.delayFrom }),
        ...errorOf(event)
      }
    case "Succeeded":
      return { ...common, attempts: event.attempts }
    case "GaveUp":
      return { ...common, attempts: event.attempts, reason: event.reason, ...errorOf(event) }
  }
}

interface PolicyMetrics {
  readonly retries: Metric.Metric.Counter<number>
  readonly recoveries: Metric.Metric.Counter<number>
  readonly delays: Metric.Metric.Histogram<number>
  readonly giveUps: Metric.Metric.Counter<number>
}

const metricsFor = (name: Option.Option<string>): PolicyMetrics => {
  const tag = <Type, In, Out>(metric: Metric.Metric<Type, In, Out>) =>
    Option.isNone(name) ? metric : Metric.tagged(metric, "policy", name.value)
  return {
    retries: tag(RetryMetrics.retries),
    recoveries: tag(RetryMetrics.recoveries),
    delays: tag(RetryMetrics.delays),
    giveUps: tag(RetryMetrics.giveUps)
  }
}

// Tagged metrics are built once per policy name: building them per event
// costs more than updating them.
const unnamedMetrics = metricsFor(Option.none())
const namedMetrics = new Map<string, PolicyMetrics>()

// Policy names are usually a handful; past this many the cache stops growing
// and further names build their tagged metrics per event.
const MAX_CACHED_NAMES = 256

const policyMetrics = (name: Option.Option<string>): PolicyMetrics => {
  if (Option.isNone(name)) return unnamedMetrics
  let metrics = namedMetrics.get(name.value)
  if (metrics === undefined) {
    metrics = metricsFor(name)
    if (namedMetrics.size < MAX_CACHED_NAMES) namedMetrics.set(name.value, metrics)
  }
  return metrics
}

/**
 * Updates the metrics of an event at once, with the fiber's metric labels (what
 * `Metric.update` does, without an effect per update).
 */
const recordMetricsNow = (fiber: Fiber.RuntimeFiber<unknown, unknown>, event: RetryEvent.RetryEvent): void => {
  const metrics = policyMetrics(event.name)
  const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
  switch (event._tag) {
    // A first attempt waiting for a cool-down (attempt 0) is no retry, and its success no recovery.
    case "Retrying":
      if (event.attempt === 0) return
      metrics.retries.unsafeUpdate(1, labels)
      metrics.delays.unsafeUpdate(Duration.toMillis(event.delay), labels)
      return
    case "Succeeded":
      if (event.attempts >= 2) metrics.recoveries.unsafeUpdate(1, labels)
      return
    case "GaveUp":
      metrics.giveUps.unsafeUpdate(1, [...labels, MetricLabel.make("reason", event.reason)])
      return
  }
}

// A first failure that is simply not retryable (a 404, a validation error) is
// routine; every other give-up, even at the first attempt, is worth a Warning,
// written at the level RetryLog sets (Warning unless set; None: no line at all).
const levelOf = (event: RetryEvent.RetryEvent, warning: LogLevel.LogLevel): LogLevel.LogLevel =>
  event._tag === "Succeeded" || (event._tag === "GaveUp" && event.attempts === 1 && event.reason === "not-retryable")
    ? LogLevel.Debug
    : warning

// Annotating logs is costly, so the levels are checked first, in one look at
// the fiber: a program that filters Warning out pays next to nothing per retry.
const log = (fiber: Fiber.RuntimeFiber<unknown, unknown>, event: RetryEvent.RetryEvent): Effect.Effect<void> | undefined => {
  const warning = fiber.getFiberRef(RetryLog.currentLevel)
  if (warning._tag === "None") return undefined
  const level = levelOf(event, warning)
  return LogLevel.lessThan(level, fiber.getFiberRef(FiberRef.currentMinimumLogLevel))
    ? undefined
    : Effect.annotateLogs(Effect.logWithLevel(level, RetryEvent.format(event)), annotations(event))
}

// The span is read from the context rather than with `Effect.currentSpan`,
// which builds an exception when there is none.
const spanEventNow = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  context: Context.Context<never>,
  event: RetryEvent.RetryEvent
): void => {
  const span = Context.getOption(context, Tracer.ParentSpan)
  if (Option.isNone(span) || span.value._tag !== "Span") return
  const now = clockOf(fiber).unsafeCurrentTimeNanos()
  span.value.event(`effect-retry.${event._tag}`, now, annotations(event))
}

/**
 * Writes what is written at once (metrics, the span event) and returns the
 * log line to write, if any, and the listeners to run: the `RetryObserver` in
 * the context, then the call's own.
 */
const writeNow = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  event: RetryEvent.RetryEvent,
  listener: Listener | undefined
): { readonly line: Effect.Effect<void> | undefined; readonly listeners: Effect.Effect<void> | undefined } => {
  recordMetricsNow(fiber, event)
  const context = fiber.getFiberRef(FiberRef.currentContext)
  spanEventNow(fiber, context, event)
  const observer = Context.getOption(context, RetryObserver)
  const observed = Option.isNone(observer) ? undefined : safely(observer.value.report, event)
  const own = listener === undefined ? undefined : safely(listener, event)
  return { line: log(fiber, event), listeners: observed === undefined ? own : own === undefined ? observed : Effect.zipRight(observed, own) }
}

const both = (a: Effect.Effect<void> | undefined, b: Effect.Effect<void> | undefined): Effect.Effect<void> =>
  a === undefined ? b ?? Effect.void : b === undefined ? a : Effect.zipRight(a, b)

/** Runs a listener so that its defects are logged instead of failing the call being retried. */
const safely = (listener: Listener, event: RetryEvent.RetryEvent): Effect.Effect<void> =>
  Effect.catchAllCause(listener(event), (cause) => Effect.logError("effect-retry: an event listener failed", cause))

/**
 * Reports an event everywhere it goes: the log, the metrics, the current span,
 * the `RetryObserver` in scope and the call's own listener.
 */
export const report = (event: RetryEvent.RetryEvent, listener: Listener | undefined): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const { line, listeners } = writeNow(fiber, event, listener)
    return both(line, listeners)
  })

/**
 * Reports a call's closing event (`Succeeded`, `GaveUp`); run it where it
 * cannot be interrupted. The log, metrics and span are written at once. The
 * listeners (the `RetryObserver` in scope, then the call's own) run in a fiber
 * of their own, so that each gets the event exactly once whatever happens to
 * the caller. With `restore` (the caller's interruptibility) the caller waits
 * for them, so that an uninterrupted call returns after its closing event was
 * delivered, and an interruption releases it at once. Without it the caller
 * does not wait (it is already being interrupted or dying).
 */
export const reportClosing = (
  event: RetryEvent.RetryEvent,
  listener: Listener | undefined,
  restore?: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const { line, listeners } = writeNow(fiber, event, listener)
    if (listeners === undefined) return line ?? Effect.void
    const delivered = Effect.flatMap(Effect.forkDaemon(listeners), (child) =>
      restore === undefined ? Effect.void : restore(Fiber.join(child)))
    return both(line, delivered)
  })
