import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import { Retry, Retryable, RetryEvent, RetryMetrics, RetryObserver, RetryPolicy } from "../src/index.js"
import {
  alwaysBusy,
  Busy,
  busyUntil,
  captureLogs,
  collectEvents,
  Fatal,
  logText,
  relative,
  runClocked,
  track
} from "./helpers.js"

/** 3 attempts, 500 ms then 1 s. */
const plain = RetryPolicy.make({ jitter: "none" })

const delayMillis = (event: RetryEvent.RetryEvent) => event._tag === "Retrying" ? Duration.toMillis(event.delay) : -1

describe("retry events through onEvent", () => {
  it.effect("Retrying 1, Retrying 2, GaveUp{attempts 3, exhausted}, with the right numbers", () =>
    Effect.gen(function*() {
      const errors: Array<Busy> = []
      const a = track((n) => {
        const error = new Busy({ n })
        errors.push(error)
        return Effect.fail(error)
      })
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(a.effect, plain, { onEvent }))
      expect(events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "GaveUp"])
      expect(events[0]).toMatchObject({ _tag: "Retrying", attempt: 1, maxAttempts: 3, name: Option.none() })
      expect(delayMillis(events[0]!)).toBe(500)
      expect((events[0] as RetryEvent.Retrying).error).toBe(errors[0])
      expect(events[1]).toMatchObject({ _tag: "Retrying", attempt: 2, maxAttempts: 3 })
      expect(delayMillis(events[1]!)).toBe(500 * 2)
      expect((events[1] as RetryEvent.Retrying).error).toBe(errors[1])
      expect(events[2]).toMatchObject({ _tag: "GaveUp", attempts: 3, reason: "exhausted" })
      expect((events[2] as RetryEvent.GaveUp).error).toBe(errors[2])
    }))

  it.effect("Retrying 1, Retrying 2, Succeeded{attempts 3}", () =>
    Effect.gen(function*() {
      const a = busyUntil(3, "done")
      const { events, onEvent } = collectEvents()
      const exit = yield* runClocked(Retry.retry(a.effect, plain, { onEvent }))
      expect(exit).toEqual(Exit.succeed("done"))
      expect(events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "Succeeded"])
      expect(events[0]).toMatchObject({ attempt: 1, maxAttempts: 3 })
      expect(events[1]).toMatchObject({ attempt: 2, maxAttempts: 3 })
      expect(events[2]).toMatchObject({ _tag: "Succeeded", attempts: 3 })
    }))

  it.effect("Retrying is reported before the backoff sleep, not after", () =>
    Effect.gen(function*() {
      const a = busyUntil(2, "done")
      const reportedAt: Array<number> = []
      const onEvent = () => Effect.map(Clock.currentTimeMillis, (now) => void reportedAt.push(now))
      yield* runClocked(Retry.retry(a.effect, plain, { onEvent }))
      // Retrying at the failure (t0), Succeeded after the 500 ms sleep and the second attempt
      expect(reportedAt.map((t) => t - a.times[0]!)).toEqual([0, 500])
    }))

  it.effect("no event at all when the first attempt succeeds", () =>
    Effect.gen(function*() {
      const { events, onEvent } = collectEvents()
      const observed = collectEvents()
      const value = yield* Retry.retry(Effect.succeed(1), plain, { onEvent }).pipe(
        Effect.provide(RetryObserver.layer(observed.onEvent))
      )
      expect(value).toBe(1)
      expect(events).toEqual([])
      expect(observed.events).toEqual([])
    }))

  it.effect("GaveUp reason not-retryable after 1 attempt, with no Retrying", () =>
    Effect.gen(function*() {
      const fatal = new Fatal({ reason: "no" })
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(Effect.fail(fatal), plain, { onEvent }))
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ _tag: "GaveUp", attempts: 1, reason: "not-retryable" })
      expect((events[0] as RetryEvent.GaveUp).error).toBe(fatal)
    }))

  it.effect("GaveUp reason not-retryable after a retry, when the second error is permanent", () =>
    Effect.gen(function*() {
      const a = track((n) => Effect.fail(n === 1 ? new Busy({ n }) : new Fatal({ reason: "no" })))
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(a.effect, plain, { onEvent }))
      expect(events.map((e) => e._tag)).toEqual(["Retrying", "GaveUp"])
      expect(events[1]).toMatchObject({ attempts: 2, reason: "not-retryable" })
    }))

  it.effect("GaveUp reason retry-after-too-long", () =>
    Effect.gen(function*() {
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(Effect.fail(new Busy({ retryAfter: "2 minutes" })), plain, { onEvent }))
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ _tag: "GaveUp", attempts: 1, reason: "retry-after-too-long" })
    }))

  it.effect("GaveUp reason deadline", () =>
    Effect.gen(function*() {
      // 500 then 1000 ms: the second retry would end at 1500 > 1200
      const policy = RetryPolicy.make({ jitter: "none", maxAttempts: 5, maxElapsed: 1200 })
      const a = alwaysBusy()
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(a.effect, policy, { onEvent }))
      expect(relative(a.times)).toEqual([0, 500])
      expect(events.map((e) => e._tag)).toEqual(["Retrying", "GaveUp"])
      expect(events[0]).toMatchObject({ attempt: 1, maxAttempts: 5 })
      expect(events[1]).toMatchObject({ attempts: 2, reason: "deadline" })
    }))

  it.effect("the policy name is carried into every event", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.make({ jitter: "none", name: "billing" })
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(busyUntil(2, 0).effect, policy, { onEvent }))
      yield* runClocked(Retry.retry(alwaysBusy().effect, policy, { onEvent }))
      expect(events.map((e) => e._tag)).toEqual(["Retrying", "Succeeded", "Retrying", "Retrying", "GaveUp"])
      for (const event of events) expect(event.name).toEqual(Option.some("billing"))
    }))

  it.effect("a failing listener does not change the outcome", () =>
    Effect.gen(function*() {
      const a = busyUntil(3, "ok")
      const exit = yield* runClocked(Retry.retry(a.effect, plain, { onEvent: () => Effect.die("listener bug") }))
      expect(exit).toEqual(Exit.succeed("ok"))
      expect(a.times.length).toBe(3)
    }))
})

describe("retry events through RetryObserver.layer", () => {
  it.effect("the observer gets the same events, in order", () =>
    Effect.gen(function*() {
      const observed = collectEvents()
      const own = collectEvents()
      yield* runClocked(
        Retry.retry(alwaysBusy().effect, plain, { onEvent: own.onEvent }).pipe(
          Effect.provide(RetryObserver.layer(observed.onEvent))
        )
      )
      const summary = (events: ReadonlyArray<RetryEvent.RetryEvent>) =>
        events.map((e) =>
          RetryEvent.$match(e, {
            Retrying: (r) => `Retrying ${r.attempt}/${r.maxAttempts} ${Duration.toMillis(r.delay)}`,
            Succeeded: (s) => `Succeeded ${s.attempts}`,
            GaveUp: (g) => `GaveUp ${g.attempts} ${g.reason}`
          })
        )
      expect(summary(observed.events)).toEqual(["Retrying 1/3 500", "Retrying 2/3 1000", "GaveUp 3 exhausted"])
      expect(summary(own.events)).toEqual(summary(observed.events))
    }))

  it.effect("the observer sees Succeeded{attempts 3}", () =>
    Effect.gen(function*() {
      const observed = collectEvents()
      yield* runClocked(
        Retry.retry(busyUntil(3, "x").effect, plain).pipe(Effect.provide(RetryObserver.layer(observed.onEvent)))
      )
      expect(observed.events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "Succeeded"])
      expect(observed.events[2]).toMatchObject({ attempts: 3 })
      expect(observed.events.filter(RetryEvent.$is("Retrying")).map((e) => e.attempt)).toEqual([1, 2])
    }))
})

describe("RetryEvent.format", () => {
  const retrying = (millis: number, attempt = 1, maxAttempts = 3) =>
    RetryEvent.Retrying({ attempt, maxAttempts, delay: Duration.millis(millis), error: "x", name: Option.none() })

  it("renders a retry with the attempt about to start", () => {
    expect(RetryEvent.format(retrying(500))).toBe("retrying in 500ms (attempt 2/3)")
    expect(RetryEvent.format(retrying(1000, 2, 5))).toBe("retrying in 1s (attempt 3/5)")
  })

  it("renders seconds with at most one decimal", () => {
    expect(RetryEvent.format(retrying(1200))).toBe("retrying in 1.2s (attempt 2/3)")
    expect(RetryEvent.format(retrying(8000))).toBe("retrying in 8s (attempt 2/3)")
    expect(RetryEvent.formatDelay(Duration.millis(1250))).toBe("1.3s") // Math.round(12.5) = 13
    expect(RetryEvent.formatDelay(Duration.millis(1249))).toBe("1.2s")
    expect(RetryEvent.formatDelay("2 seconds")).toBe("2s")
    expect(RetryEvent.formatDelay(Duration.millis(59_960))).toBe("60s") // 599.6 -> 600 tenths
  })

  it("rounds to whole milliseconds first: 999.6 ms is 1s, 999.4 ms is 999ms", () => {
    // Math.round(999.6) = 1000, which is not < 1000, so it is shown in seconds
    expect(RetryEvent.formatDelay(Duration.millis(999.6))).toBe("1s")
    expect(RetryEvent.formatDelay(Duration.millis(999.5))).toBe("1s")
    expect(RetryEvent.formatDelay(Duration.millis(999.4))).toBe("999ms")
    expect(RetryEvent.formatDelay(Duration.millis(999))).toBe("999ms")
    expect(RetryEvent.formatDelay(Duration.millis(0.4))).toBe("0ms")
    expect(RetryEvent.formatDelay(Duration.zero)).toBe("0ms")
  })

  it("renders Succeeded and GaveUp", () => {
    expect(RetryEvent.format(RetryEvent.Succeeded({ attempts: 2, name: Option.none() }))).toBe(
      "succeeded after 2 attempts"
    )
    expect(RetryEvent.format(RetryEvent.Succeeded({ attempts: 1, name: Option.none() }))).toBe(
      "succeeded after 1 attempt"
    )
    expect(
      RetryEvent.format(RetryEvent.GaveUp({ attempts: 3, error: "x", reason: "exhausted", name: Option.none() }))
    ).toBe("gave up after 3 attempts (exhausted)")
    expect(
      RetryEvent.format(RetryEvent.GaveUp({ attempts: 1, error: "x", reason: "not-retryable", name: Option.none() }))
    ).toBe("gave up after 1 attempt (not-retryable)")
  })
})

class Leaky extends Retryable.TaggedError("Leaky")<{ readonly message: string }> {}

const SECRET = "sk-secret-123"

describe("logs", () => {
  it.effect("each retry logs at Warning level with attempt, delayMs, error tag and policy", () =>
    Effect.gen(function*() {
      const capture = captureLogs()
      const policy = RetryPolicy.make({ jitter: "none", name: "logs-policy" })
      const leaky = new Leaky({ message: `401 with token ${SECRET}` })
      expect(String(leaky)).toContain(SECRET) // the error itself does hold the secret
      yield* runClocked(Retry.retry(Effect.fail(leaky), policy).pipe(Effect.provide(capture.layer)))
      const warnings = capture.logs.filter((log) => log.level === "WARN")
      expect(warnings.map((log) => log.message[0])).toEqual([
        "retrying in 500ms (attempt 2/3)",
        "retrying in 1s (attempt 3/3)",
        "gave up after 3 attempts (exhausted)"
      ])
      expect(warnings[0]!.annotations).toMatchObject({
        attempt: 1,
        maxAttempts: 3,
        delayMs: 500,
        error: "Leaky",
        policy: "logs-policy"
      })
      expect(warnings[1]!.annotations).toMatchObject({ attempt: 2, delayMs: 1000, error: "Leaky" })
      expect(warnings[2]!.annotations).toMatchObject({ attempts: 3, reason: "exhausted", error: "Leaky" })
      for (const log of capture.logs) expect(logText(log)).not.toContain(SECRET)
    }))

  it.effect("the error's message never reaches a log line, whatever the outcome or error shape", () =>
    Effect.gen(function*() {
      const capture = captureLogs()
      const policy = RetryPolicy.make({ jitter: "none" })
      const plainError = new Error(`connect failed: ${SECRET}`)
      const programs: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
        Retry.retry(busyUntil(2, 1).effect, policy),
        Retry.retry(Effect.fail(new Leaky({ message: SECRET })), policy),
        Retry.retry(Effect.fail(plainError), policy, { while: () => true }),
        Retry.retry(Effect.fail({ isRetryable: true, message: SECRET }), policy),
        Retry.retry(Effect.fail(SECRET), policy, { while: () => true }),
        Retry.retry(Effect.fail(new Leaky({ message: SECRET, retryAfter: "1 hour" } as never)), policy)
      ]
      for (const program of programs) {
        yield* runClocked(program.pipe(Effect.provide(capture.layer)))
      }
      expect(capture.logs.length).toBeGreaterThan(10)
      const errorTags = new Set(capture.logs.map((log) => log.annotations.error).filter((e) => e !== undefined))
      expect([...errorTags].sort()).toEqual(["Busy", "Error", "Leaky", "object", "string"])
      expect(capture.logs.every((log) => log.annotations.policy === "unnamed")).toBe(true)
      for (const log of capture.logs) expect(logText(log)).not.toContain(SECRET)
    }))

  it.effect("a call that succeeds after retrying logs Succeeded at Debug level; an immediate give-up too", () =>
    Effect.gen(function*() {
      const capture = captureLogs()
      yield* runClocked(Retry.retry(busyUntil(2, 1).effect, plain).pipe(Effect.provide(capture.layer)))
      expect(capture.logs.map((log) => `${log.level} ${log.message[0]}`)).toEqual([
        "WARN retrying in 500ms (attempt 2/3)",
        "DEBUG succeeded after 2 attempts"
      ])
      const second = captureLogs()
      yield* runClocked(Retry.retry(Effect.fail(new Fatal({ reason: "x" })), plain).pipe(Effect.provide(second.layer)))
      expect(second.logs.map((log) => `${log.level} ${log.message[0]}`)).toEqual([
        "DEBUG gave up after 1 attempt (not-retryable)"
      ])
      // Any other give-up at the first attempt is a Warning: here a hint beyond retryAfter.max.
      const third = captureLogs()
      const tooLong = Effect.fail(new Busy({ retryAfter: "2 minutes" }))
      yield* runClocked(Retry.retry(tooLong, plain).pipe(Effect.provide(third.layer)))
      expect(third.logs.map((log) => `${log.level} ${log.message[0]}`)).toEqual([
        "WARN gave up after 1 attempt (retry-after-too-long)"
      ])
    }))
})

describe("where a delay came from", () => {
  it.effect("Retrying says backoff or retry-after", () =>
    Effect.gen(function*() {
      let n = 0
      const call = Effect.suspend(() => {
        n++
        return n === 1 ? Effect.fail(new Busy({ retryAfter: "2 seconds" })) : n === 2 ? Effect.fail(new Busy({})) : Effect.succeed("ok")
      })
      const events = collectEvents()
      yield* runClocked(Retry.retry(call, plain, { onEvent: events.onEvent }))
      expect(events.events.filter(RetryEvent.$is("Retrying")).map((event) => event.delayFrom)).toEqual([
        "retry-after",
        "backoff"
      ])
    }))
})

describe("metrics", () => {
  const counter = (metric: Metric.Metric.Counter<number>, ...tags: ReadonlyArray<readonly [string, string]>) =>
    Metric.value(tags.reduce((m, [key, value]) => Metric.tagged(m, key, value), metric)).pipe(
      Effect.map((state) => state.count)
    )

  it.effect("retries increases by the number of retries, giveUps is tagged by reason", () =>
    Effect.gen(function*() {
      const name = "metrics-policy-a"
      const policy = RetryPolicy.make({ jitter: "none", name })
      const tag = ["policy", name] as const
      const retries0 = yield* counter(RetryMetrics.retries, tag)
      const exhausted0 = yield* counter(RetryMetrics.giveUps, tag, ["reason", "exhausted"])
      const notRetryable0 = yield* counter(RetryMetrics.giveUps, tag, ["reason", "not-retryable"])
      const recoveries0 = yield* counter(RetryMetrics.recoveries, tag)

      yield* runClocked(Retry.retry(alwaysBusy().effect, policy)) // 2 retries, exhausted
      expect((yield* counter(RetryMetrics.retries, tag)) - retries0).toBe(2)
      expect((yield* counter(RetryMetrics.giveUps, tag, ["reason", "exhausted"])) - exhausted0).toBe(1)

      yield* runClocked(Retry.retry(busyUntil(2, 0).effect, policy)) // 1 retry, recovered
      expect((yield* counter(RetryMetrics.retries, tag)) - retries0).toBe(2 + 1)
      expect((yield* counter(RetryMetrics.recoveries, tag)) - recoveries0).toBe(1)

      yield* runClocked(Retry.retry(Effect.fail(new Fatal({ reason: "x" })), policy)) // no retry
      expect((yield* counter(RetryMetrics.retries, tag)) - retries0).toBe(3)
      expect((yield* counter(RetryMetrics.giveUps, tag, ["reason", "not-retryable"])) - notRetryable0).toBe(1)
      expect((yield* counter(RetryMetrics.giveUps, tag, ["reason", "exhausted"])) - exhausted0).toBe(1)

      yield* runClocked(Retry.retry(Effect.succeed(1), policy)) // nothing
      expect((yield* counter(RetryMetrics.retries, tag)) - retries0).toBe(3)
      expect((yield* counter(RetryMetrics.recoveries, tag)) - recoveries0).toBe(1)
    }))

  it.effect("another policy name is counted apart", () =>
    Effect.gen(function*() {
      const a = ["policy", "metrics-policy-b"] as const
      const b = ["policy", "metrics-policy-c"] as const
      const a0 = yield* counter(RetryMetrics.retries, a)
      const b0 = yield* counter(RetryMetrics.retries, b)
      yield* runClocked(Retry.retry(alwaysBusy().effect, RetryPolicy.make({ jitter: "none", name: a[1], maxAttempts: 4 })))
      expect((yield* counter(RetryMetrics.retries, a)) - a0).toBe(3)
      expect((yield* counter(RetryMetrics.retries, b)) - b0).toBe(0)
    }))

  it.effect("delays records each backoff delay in milliseconds", () =>
    Effect.gen(function*() {
      const name = "metrics-policy-d"
      const histogram = Metric.tagged(RetryMetrics.delays, "policy", name)
      const before = yield* Metric.value(histogram)
      yield* runClocked(Retry.retry(alwaysBusy().effect, RetryPolicy.make({ jitter: "none", name })))
      const after = yield* Metric.value(histogram)
      expect(after.count - before.count).toBe(2)
      expect(after.sum - before.sum).toBe(500 + 1000)
    }))
})
