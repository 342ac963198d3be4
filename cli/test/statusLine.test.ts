/**
 * The CLI's status line (cli/src/statusLine.ts): the countdown text, and the
 * line and the `describe` lines it keeps above it, driven by Retry.retry with
 * a recording Terminal.
 */
import * as Terminal from "@effect/platform/Terminal"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import { Retry, Retryable, RetryCooldown, RetryEvent, RetryLog, RetryPolicy } from "effect-retry"
import { CLEAR_LINE, countdownText, layer as statusLine } from "../src/statusLine.js"

describe("the status line's countdown", () => {
  it("says a wait comes from a cool-down another call received, as it counts down", () => {
    const event = RetryEvent.Retrying({
      attempt: 0,
      maxAttempts: 3,
      delay: Duration.seconds(2),
      delayFrom: "cooldown",
      error: undefined,
      name: Option.none()
    })
    expect(countdownText(event, 1500)).toBe("waiting 1.5s for a cool-down another call received (attempt 1/3)")
    expect(countdownText(event, 0)).toBe("attempt 1/3 in progress")
    const backoff = RetryEvent.Retrying({ ...event, attempt: 1, delayFrom: "backoff" })
    expect(countdownText(backoff, 500)).toBe("retrying in 500ms (attempt 2/3)")
  })

  it("under a Schedule, which has no attempt count, shows the attempt alone", () => {
    const event = RetryEvent.Retrying({
      attempt: 1,
      maxAttempts: Infinity,
      delay: Duration.seconds(1),
      error: undefined,
      name: Option.none()
    })
    expect(countdownText(event, 500)).toBe("retrying in 500ms (attempt 2)")
    expect(countdownText(event, 0)).toBe("attempt 2 in progress")
  })
})

class Unavailable extends Retryable.TaggedError("Unavailable")<{ readonly n: number }> {}

/**
 * A Terminal that records what is displayed. `async: true` displays as
 * @effect/platform-node's Terminal does: `stdout.write` with a callback,
 * uninterruptible, so the fiber resumes after the text is out.
 */
const recordingTerminal = (options: { readonly tty: boolean; readonly async?: boolean }) => {
  const out: Array<string> = []
  const terminal = {
    columns: Effect.succeed(80),
    rows: Effect.succeed(24),
    isTTY: Effect.succeed(options.tty),
    readInput: Effect.die("no input"),
    readLine: Effect.die("no input"),
    display: (text: string) =>
      options.async === true
        ? Effect.uninterruptible(Effect.async<void>((resume) => {
          out.push(text)
          setImmediate(() => resume(Effect.void))
        }))
        : Effect.sync(() => void out.push(text))
  } as unknown as Terminal.Terminal
  return { out, layer: Layer.succeed(Terminal.Terminal, terminal) }
}

const policy = RetryPolicy.make({ jitter: "none", maxAttempts: 3, baseDelay: "1 second" })

describe("the status line when a call ends", () => {
  it.effect("a retry with no delay that succeeds leaves no status text on the terminal (platform-node's display)", () =>
    Effect.gen(function*() {
      const { layer, out } = recordingTerminal({ tty: true, async: true })
      let n = 0
      const call = Effect.suspend(() => ++n === 1 ? Effect.fail(new Unavailable({ n })) : Effect.succeed("ok"))
      yield* call.pipe(
        Retry.retry(RetryPolicy.make({ jitter: "none", baseDelay: 0 })),
        RetryLog.off,
        Effect.provide(statusLine({ tty: true }).pipe(Layer.provide(layer)))
      )
      // Whatever was drawn, the last thing written erases it.
      expect(out.length).toBeGreaterThan(0)
      expect(out[out.length - 1]).toBe(CLEAR_LINE)
    }))
})

const describeCalls = () => {
  const calls: Array<string> = []
  const describe = (attempt: number, error: unknown) => {
    const line = `attempt ${attempt}: ${error instanceof Unavailable ? `Unavailable #${error.n}` : String(error)}`
    calls.push(line)
    return line
  }
  return { calls, describe }
}

/** A status line on a recording terminal, and what `describe` was told. */
const statusLineOn = (tty: boolean) => {
  const { layer, out } = recordingTerminal({ tty })
  const { calls, describe } = describeCalls()
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(RetryLog.off, Effect.provide(statusLine({ tty, describe }).pipe(Layer.provide(layer))))
  return { calls, out, provide }
}

describe("describe is told what each attempt got", () => {
  it.effect("attempt 2 died with a defect: it is not described with attempt 1's error", () =>
    Effect.gen(function*() {
      const { calls, provide } = statusLineOn(true)
      let n = 0
      const call = Effect.suspend(() => ++n === 1 ? Effect.fail(new Unavailable({ n })) : Effect.die("boom"))
      const fiber = yield* Effect.fork(Effect.exit(provide(Retry.retry(call, policy))))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      // Attempt 2 got no error: its GaveUp carries attempt 1's, which was described when it was retried.
      expect(calls).toEqual(["attempt 1: Unavailable #1"])
    }))

  it.effect("interrupted during the backoff: attempt 1's line is printed once, not twice", () =>
    Effect.gen(function*() {
      const { out, provide } = statusLineOn(false)
      let n = 0
      const call = Effect.suspend(() => Effect.fail(new Unavailable({ n: ++n })))
      const fiber = yield* Effect.fork(provide(Retry.retry(call, policy)))
      yield* TestClock.adjust("500 millis")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("10 millis")
      expect(out.filter((line) => line === "attempt 1: Unavailable #1\n")).toHaveLength(1)
    }))

  it.effect("interrupted during attempt 2: only attempt 1, which failed, is described", () =>
    Effect.gen(function*() {
      const { calls, provide } = statusLineOn(true)
      let n = 0
      const call = Effect.suspend(() => ++n === 1 ? Effect.fail(new Unavailable({ n })) : Effect.never)
      const fiber = yield* Effect.fork(provide(Retry.retry(call, policy)))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("10 millis")
      expect(calls).toEqual(["attempt 1: Unavailable #1"])
    }))

  it.effect("a call that gives up describes its last attempt with that attempt's error", () =>
    Effect.gen(function*() {
      const { out, provide } = statusLineOn(false)
      let n = 0
      const call = Effect.suspend(() => Effect.fail(new Unavailable({ n: ++n })))
      const fiber = yield* Effect.fork(Effect.exit(provide(Retry.retry(call, policy))))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(out.filter((line) => line.startsWith("attempt "))).toEqual([
        "attempt 1: Unavailable #1\n",
        "attempt 2: Unavailable #2\n",
        "attempt 3: Unavailable #3\n"
      ])
    }))

  it.effect("a retry announced, then given up at the deadline after a slow listener: its attempt is described once", () =>
    Effect.gen(function*() {
      const { calls, provide } = statusLineOn(false)
      let n = 0
      const call = Effect.suspend(() => Effect.fail(new Unavailable({ n: ++n })))
      const budgeted = RetryPolicy.make({ jitter: "none", maxAttempts: 3, baseDelay: "500 millis", maxElapsed: "1 second" })
      const fiber = yield* Effect.fork(Effect.exit(provide(call.pipe(
        // A listener that takes 2 s: when it returns, the retry would start past the 1 s budget.
        Retry.retry(budgeted, { onEvent: (event) => event._tag === "Retrying" ? Effect.sleep("2 seconds") : Effect.void }),
      ))))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(n).toBe(1)
      expect(calls).toEqual(["attempt 1: Unavailable #1"])
    }))

  it.effect("a first attempt waiting for a cool-down has not failed: describe is not called for attempt 0", () =>
    Effect.gen(function*() {
      const { calls, provide } = statusLineOn(false)
      const cooldown = yield* RetryCooldown.make
      yield* cooldown.record("api", Duration.seconds(2))
      const fiber = yield* Effect.fork(provide(Effect.succeed("ok").pipe(
        Retry.retry(policy, { cooldown: { key: "api", firstAttempts: true } }),
        Effect.provideService(RetryCooldown.RetryCooldown, cooldown)
      )))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(fiber)
      expect(calls).toEqual([])
    }))
})

describe("describe across calls", () => {
  it.effect("two calls under one status line that fail with the same error object: each call's attempt 1 is described", () =>
    Effect.gen(function*() {
      const { calls, out, provide } = statusLineOn(false)
      // One error value, as `Effect.fail(unavailable)` with a shared instance gives.
      const unavailable = new Unavailable({ n: 0 })
      const callOnce = () => {
        let n = 0
        return Retry.retry(Effect.suspend(() => ++n === 1 ? Effect.fail(unavailable) : Effect.succeed("ok")), policy)
      }
      const fiber = yield* Effect.fork(provide(Effect.zipRight(callOnce(), callOnce())))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(out.filter((line) => line.startsWith("retrying"))).toHaveLength(2)
      // The second call's first attempt failed too: it is described as well.
      expect(calls).toEqual(["attempt 1: Unavailable #0", "attempt 1: Unavailable #0"])
    }))

  const budgeted = RetryPolicy.make({ jitter: "none", maxAttempts: 3, baseDelay: "500 millis", maxElapsed: "1 second" })

  it.effect("a retry announced, then given up at the deadline, with a string error: its attempt is described once", () =>
    Effect.gen(function*() {
      const { calls, provide } = statusLineOn(false)
      const fiber = yield* Effect.fork(Effect.exit(provide(
        // A listener that takes 2 s: when it returns, the retry would start past the 1 s budget.
        Retry.retry(Effect.fail("503 from upstream"), budgeted, {
          while: () => true,
          onEvent: (event) => event._tag === "Retrying" ? Effect.sleep("2 seconds") : Effect.void
        })
      )))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(calls).toEqual(["attempt 1: 503 from upstream"])
    }))

  it.effect("a deadline give-up with no announcement of its own, after another call's with the same error, is described", () =>
    Effect.gen(function*() {
      const { calls, provide } = statusLineOn(false)
      // First call: attempt 1 fails at once and is retried (announced), attempt 2 succeeds.
      let n = 0
      const recovers = Effect.suspend(() => ++n === 1 ? Effect.fail("503 from upstream") : Effect.succeed("ok"))
      // Second call: attempt 1 takes 900 ms and fails; a 500 ms retry would end past the 1 s budget.
      const slow = Effect.zipRight(Effect.sleep("900 millis"), Effect.fail("503 from upstream"))
      const retried = (effect: Effect.Effect<string, string>) => Retry.retry(effect, budgeted, { while: () => true })
      const fiber = yield* Effect.fork(Effect.exit(provide(Effect.zipRight(retried(recovers), retried(slow)))))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(calls).toEqual(["attempt 1: 503 from upstream", "attempt 1: 503 from upstream"])
    }))
})
