/**
 * A terminal status line driven by retry events, as a `RetryObserver` layer.
 *
 * On a TTY, `Retrying` shows "retrying in 1.2s (attempt 2/3)" on one line
 * that is rewritten in place (carriage return + "erase line") as it counts
 * down, every 100 ms of Effect's `Clock`, and `Succeeded` or `GaveUp` erases
 * it. Anywhere else (a pipe, a file, CI) each event is printed once as a plain
 * line, because escape codes and rewritten lines only make logs unreadable.
 */
import * as Terminal from "@effect/platform/Terminal"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { RetryEvent, RetryObserver } from "effect-retry"

/** Carriage return, then ANSI "erase the whole line". */
export const CLEAR_LINE = "\r\x1b[2K"

/** How often the countdown is redrawn. */
export const TICK = Duration.millis(100)

/** Options of `layer`. */
export interface StatusLineOptions {
  /** Rewrite one line in place (a terminal) or print plain lines. */
  readonly tty: boolean
  /** Put before every line, for output nested under a heading. */
  readonly indent?: string | undefined
  /**
   * A line kept above the status line when an attempt fails, such as what the
   * attempt got ("503 Service Unavailable"); nothing when it returns undefined.
   * Called once for every attempt that failed with an error, the last one of a
   * call that gives up included. Not called for a first attempt that waits
   * for a cool-down (nothing failed yet), nor for a call that is interrupted
   * or dies: the attempt cut short got no error, and the error its `GaveUp`
   * carries is an earlier attempt's, already described.
   */
  readonly describe?: ((attempt: number, error: unknown) => string | undefined) | undefined
  /** Run after an attempt's line is printed: the demo prints the log lines of that attempt here. */
  readonly afterAttempt?: Effect.Effect<void> | undefined
}

/**
 * Whether a call ended cut short (interrupted, or a later attempt died): the
 * attempt cut short got no error, and its `GaveUp` carries an earlier one's.
 */
export const cutShort = (event: RetryEvent.GaveUp): boolean => event.reason === "interrupted" || event.reason === "defect"

/** The time left, rounded up to the tick, so that the countdown reads 1.2s, 1.1s, 1s, 900ms... */
const remaining = (millis: number) => Duration.millis(Math.ceil(millis / Duration.toMillis(TICK)) * Duration.toMillis(TICK))

/** The status text of a `Retrying` event with `left` milliseconds still to wait. */
export const countdownText = (event: RetryEvent.Retrying, left: number): string =>
  left > 0
    ? RetryEvent.format(
      RetryEvent.Retrying({
        attempt: event.attempt,
        maxAttempts: event.maxAttempts,
        delay: remaining(left),
        delayFrom: event.delayFrom,
        error: event.error,
        name: event.name
      })
    )
    : `${RetryEvent.formatAttempt(event)} in progress`

/**
 * A `RetryObserver` layer that draws the status line on the `Terminal`'s
 * standard output. Closing the layer's scope stops the countdown and erases
 * the line, so an interrupted program leaves a clean terminal.
 */
export const layer = (
  options: StatusLineOptions
): Layer.Layer<RetryObserver.RetryObserver, never, Terminal.Terminal> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const terminal = yield* Terminal.Terminal
    const scope = yield* Effect.scope
    const indent = options.indent ?? ""
    const write = (text: string) => Effect.ignore(terminal.display(text))
    const countdown = yield* Ref.make(Option.none<Fiber.RuntimeFiber<unknown>>())
    const shown = yield* Ref.make(false)

    // Marked as shown before the text goes out: a Terminal's display may not be
    // interruptible (platform-node's is not), so a countdown stopped during its
    // write still puts the text on screen, and `erase` must know to clear it.
    const show = (line: string) => Effect.zipRight(Ref.set(shown, true), write(`${CLEAR_LINE}${indent}${line}`))
    const erase = Effect.flatMap(
      Ref.getAndSet(shown, false),
      (visible) => (visible ? write(CLEAR_LINE) : Effect.void)
    )
    const stop = Effect.flatMap(
      Ref.getAndSet(countdown, Option.none()),
      Option.match({ onNone: () => Effect.void, onSome: (fiber) => Fiber.interrupt(fiber) })
    )
    const println = (line: string) => write(`${indent}${line}\n`)
    /** The attempt whose error `event` carries, if it is that attempt's own (see `describe`). */
    const failedAttempt = (event: RetryEvent.Retrying | RetryEvent.GaveUp): number | undefined => {
      const attempt = event._tag === "Retrying" ? event.attempt : event.attempts
      return attempt >= 1 && !(event._tag === "GaveUp" && cutShort(event)) ? attempt : undefined
    }
    // A retry announced by `Retrying` and then not made because the deadline
    // passed while the listeners ran is followed at once by a `GaveUp`
    // ("deadline") with the same attempt and error: that attempt was
    // described already. Events carry no call of their own, so "at once" is
    // what tells it: the last event seen was that `Retrying`. Calls whose
    // events interleave there may see the attempt twice, never not at all.
    let lastAnnounced: { readonly attempt: number; readonly error: unknown } | undefined
    const firstTime = (event: RetryEvent.Retrying | RetryEvent.GaveUp, attempt: number): boolean =>
      event._tag === "Retrying" || event.reason !== "deadline" || lastAnnounced === undefined ||
      lastAnnounced.attempt !== attempt || !Object.is(lastAnnounced.error, event.error)
    const remember = (event: RetryEvent.RetryEvent) => {
      lastAnnounced = event._tag === "Retrying" ? { attempt: event.attempt, error: event.error } : undefined
    }
    const history = (event: RetryEvent.Retrying | RetryEvent.GaveUp) => {
      const attempt = failedAttempt(event)
      const line = attempt === undefined || !firstTime(event, attempt)
        ? undefined
        : options.describe?.(attempt, event.error)
      return Effect.zipRight(line === undefined ? Effect.void : println(line), options.afterAttempt ?? Effect.void)
    }

    yield* Effect.addFinalizer(() => Effect.zipRight(stop, erase))

    // Redraws until the wait is over; the tick comes from Effect's Clock, so a TestClock drives it too.
    const runCountdown = (event: RetryEvent.Retrying) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const total = Duration.toMillis(event.delay)
        const draw = Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const left = total - (now - start)
          return Effect.as(show(countdownText(event, left)), left > 0)
        })
        yield* Effect.repeat(draw, { schedule: Schedule.spaced(TICK), while: (counting) => counting })
      })

    const onTty = (event: RetryEvent.RetryEvent): Effect.Effect<void> => {
      switch (event._tag) {
        case "Retrying":
          return stop.pipe(
            Effect.zipRight(erase),
            Effect.zipRight(history(event)),
            Effect.zipRight(Effect.forkIn(runCountdown(event), scope)),
            Effect.flatMap((fiber) => Ref.set(countdown, Option.some(fiber)))
          )
        case "Succeeded":
          return Effect.zipRight(stop, erase)
        case "GaveUp":
          return stop.pipe(Effect.zipRight(erase), Effect.zipRight(history(event)))
      }
    }

    const plain = (event: RetryEvent.RetryEvent): Effect.Effect<void> => {
      switch (event._tag) {
        case "Retrying":
          return Effect.zipRight(history(event), println(RetryEvent.format(event)))
        case "Succeeded":
          return println(RetryEvent.format(event))
        case "GaveUp":
          return Effect.zipRight(history(event), println(RetryEvent.format(event)))
      }
    }

    const observe = options.tty ? onTty : plain
    return RetryObserver.layer((event) => {
      const shown = observe(event)
      remember(event)
      return shown
    })
  }))
