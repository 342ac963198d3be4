/**
 * RetryLog: the switch for the library's own log lines. Each case runs a call
 * that retries twice and gives up (3 attempts), under TestClock, with a logger
 * that records every line at every level, and checks which library lines were
 * written and at what level. Events still reach `onEvent` whatever the switch.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, FiberRef, Layer, Logger, LogLevel } from "effect"
import { Retry, RetryCooldown, RetryLog, RetryPolicy } from "../src/index.js"
import { alwaysBusy, captureLogs, collectEvents, runClocked } from "./helpers.js"

const policy = RetryPolicy.make({ maxAttempts: 3, baseDelay: "10 millis", jitter: "none" })

/** Runs a failing call; returns the library's log lines as "LEVEL message" and the events seen. */
const run = (
  wrap: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
  minimum: LogLevel.LogLevel = LogLevel.All
) =>
  Effect.gen(function*() {
    const { layer, logs } = captureLogs()
    const { events, onEvent } = collectEvents()
    const call = alwaysBusy().effect.pipe(
      Retry.retry(policy, { onEvent }),
      (self) => Effect.ensuring(self, Effect.logInfo("the program's own line")),
      wrap
    )
    yield* runClocked(call).pipe(
      Effect.provide(Layer.merge(layer, Logger.minimumLogLevel(minimum)))
    )
    return { lines: logs.map((log) => `${log.level} ${String(log.message[0])}`), events: events.map((e) => e._tag) }
  })

const everyLine = ["WARN retrying in 10ms (attempt 2/3)", "WARN retrying in 20ms (attempt 3/3)", "WARN gave up after 3 attempts (exhausted)"]
const own = "INFO the program's own line"
const events = ["Retrying", "Retrying", "GaveUp"]

describe("RetryLog", () => {
  it.effect("by default each retry and the give-up are logged at Warning", () =>
    Effect.gen(function*() {
      const result = yield* run((self) => self)
      expect(result.lines).toEqual([...everyLine, own])
      expect(result.events).toEqual(events)
    }))

  it.effect("off: no line of the library, the program's own lines and the events stay", () =>
    Effect.gen(function*() {
      const result = yield* run(RetryLog.off)
      expect(result.lines).toEqual([own])
      expect(result.events).toEqual(events)
    }))

  it.effect("off also silences the Debug lines (a recovery)", () =>
    Effect.gen(function*() {
      const { layer, logs } = captureLogs()
      let calls = 0
      const recovers = Effect.suspend(() => ++calls < 2 ? Effect.fail({ isRetryable: true }) : Effect.succeed("ok"))
      const loud = yield* runClocked(recovers.pipe(Retry.retry(policy))).pipe(Effect.provide(layer), Effect.map(() => logs.length))
      expect(loud).toBe(2) // WARN retrying, DEBUG succeeded
      calls = 0
      logs.length = 0
      yield* runClocked(recovers.pipe(Retry.retry(policy), RetryLog.off)).pipe(Effect.provide(layer))
      expect(logs).toEqual([])
    }))

  it.effect("withLevel(Debug): the lines move to Debug, so Effect's default minimum (Info) hides them", () =>
    Effect.gen(function*() {
      const atDebug = yield* run(RetryLog.withLevel(LogLevel.Debug))
      expect(atDebug.lines).toEqual([...everyLine.map((line) => line.replace(/^WARN/, "DEBUG")), own])
      const atInfo = yield* run(RetryLog.withLevel(LogLevel.Debug), LogLevel.Info)
      expect(atInfo.lines).toEqual([own])
      expect(atInfo.events).toEqual(events)
    }))

  it.effect("withLevel(Error), data-first", () =>
    Effect.gen(function*() {
      const result = yield* run((self) => RetryLog.withLevel(self, LogLevel.Error))
      expect(result.lines).toEqual([...everyLine.map((line) => line.replace(/^WARN/, "ERROR")), own])
    }))

  it.effect("as a layer: layer(level) and layerOff", () =>
    Effect.gen(function*() {
      const debug = yield* run((self) => Effect.provide(self, RetryLog.layer(LogLevel.Debug)))
      expect(debug.lines).toEqual([...everyLine.map((line) => line.replace(/^WARN/, "DEBUG")), own])
      const off = yield* run((self) => Effect.provide(self, RetryLog.layerOff))
      expect(off.lines).toEqual([own])
    }))

  it.effect("per scope: the innermost setting wins, and only inside its scope", () =>
    Effect.gen(function*() {
      const { layer, logs } = captureLogs()
      const call = (label: string) =>
        alwaysBusy().effect.pipe(Retry.retry(RetryPolicy.update(policy, { maxAttempts: 2, name: label })), Effect.exit)
      yield* runClocked(
        Effect.all([
          call("outer"),
          Effect.all([call("inner-off"), call("inner-again").pipe(RetryLog.withLevel(LogLevel.Warning))]).pipe(
            RetryLog.off
          ),
          call("after")
        ])
      ).pipe(Effect.provide(layer))
      const policies = [...new Set(logs.map((log) => log.annotations["policy"]))]
      expect(policies).toEqual(["outer", "inner-again", "after"])
    }))

  it.effect("a forked fiber inherits the setting; the FiberRef reads it", () =>
    Effect.gen(function*() {
      expect(yield* FiberRef.get(RetryLog.currentLevel)).toEqual(LogLevel.Warning)
      const seen = yield* Effect.fork(FiberRef.get(RetryLog.currentLevel)).pipe(
        Effect.flatMap(Fiber.join),
        RetryLog.off
      )
      expect(seen).toEqual(LogLevel.None)
      const result = yield* run((self) =>
        Effect.fork(Effect.exit(self)).pipe(Effect.flatMap(Fiber.join), Effect.flatten, RetryLog.off)
      )
      expect(result.lines).toEqual([own])
    }))
})

describe("the error annotation", () => {
  it.effect("a call that fails with undefined is logged with error=undefined on each retry and the give-up", () =>
    Effect.gen(function*() {
      const { layer, logs } = captureLogs()
      const failing = Effect.fail(undefined)
      yield* runClocked(
        Retry.retry(failing, RetryPolicy.make({ baseDelay: "10 millis", jitter: "none", maxAttempts: 2 }), { while: () => true }).pipe(
          Effect.provide(layer)
        )
      )
      const library = logs.filter((log) => log.level === "WARN")
      expect(library.length).toBe(2)
      // The attempt failed, with undefined: the line says so, as it did before, unlike a cool-down wait that has no error.
      for (const log of library) expect(log.annotations["error"]).toBe("undefined")
    }))
})

describe("the error annotation when nothing failed", () => {
  it.effect("a first attempt that dies after waiting out a cool-down is logged without an error: none failed", () =>
    Effect.gen(function*() {
      const { layer, logs } = captureLogs()
      const cooldown = yield* RetryCooldown.make
      yield* cooldown.record("api", "2 seconds")
      yield* runClocked(
        Retry.retry(Effect.die("boom"), policy, { cooldown: { key: "api", firstAttempts: true } }).pipe(
          Effect.provideService(RetryCooldown.RetryCooldown, cooldown),
          Effect.provide(layer)
        )
      )
      const gaveUp = logs.find((log) => log.annotations["reason"] === "defect")
      expect(gaveUp?.annotations).toMatchObject({ attempts: 1, reason: "defect" })
      expect(gaveUp?.annotations).not.toHaveProperty("error")
    }))
})
