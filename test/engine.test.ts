/**
 * Retry.retry runs any Schedule whose input is the failure, with the same
 * events, budgets and iteration metadata as under a policy; its types infer
 * in both call forms; retryOrElse; slow listeners never hold the caller.
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Option, Schedule, TestClock } from "effect"
import { Retry, RetryBudget, RetryEvent, RetryObserver, RetryPolicy, Retryable } from "../src/index.js"
import { HttpRetry } from "../src/http/index.js"
import { alwaysBusy, Busy, busyUntil, collectEvents, draws, Fatal, relative, runClocked, track } from "./helpers.js"
import { status, TestServer, TestServerLive } from "./support/server.js"

const noJitter = RetryPolicy.make({ maxAttempts: 4, baseDelay: "100 millis", jitter: "none" })

describe("Retry.retry with a Schedule", () => {
  it.effect("reports each retry with the delay the schedule chose and gives up with schedule-done", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      const { events, onEvent } = collectEvents()
      const schedule = RetryPolicy.toSchedule(noJitter).pipe(Schedule.intersect(Schedule.spaced("250 millis")))
      const exit = yield* runClocked(Retry.retry(a.effect, schedule, { onEvent }))
      expect(Exit.isFailure(exit)).toBe(true)
      // the policy's delays are 100, 200, 400; intersect takes the longer one
      expect(relative(a.times)).toEqual([0, 250, 500, 900])
      const retrying = events.filter(RetryEvent.$is("Retrying"))
      expect(retrying.map((e) => Duration.toMillis(e.delay))).toEqual([250, 250, 400])
      expect(retrying.map((e) => e.delayFrom)).toEqual(["schedule", "schedule", "schedule"])
      expect(retrying.map((e) => e.attempt)).toEqual([1, 2, 3])
      expect(events[events.length - 1]).toMatchObject({ _tag: "GaveUp", attempts: 4, reason: "schedule-done" })
    }))

  it.effect("retries every failure the schedule accepts, as Effect.retry does, and names the call", () =>
    Effect.gen(function*() {
      const a = track((n) => n < 3 ? Effect.fail(`plain ${n}`) : Effect.succeed("done"))
      const { events, onEvent } = collectEvents()
      const exit = yield* runClocked(Retry.retry(a.effect, Schedule.recurs(5), { onEvent, name: "plain" }))
      expect(exit).toEqual(Exit.succeed("done"))
      expect(events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "Succeeded"])
      expect(events.every((e) => Option.getOrUndefined(e.name) === "plain")).toBe(true)
      expect(RetryEvent.format(events[0]!)).toBe("retrying in 0ms (attempt 2)")
    }))

  it.effect("with while, a failure it rejects ends the call as not-retryable without stepping the schedule", () =>
    Effect.gen(function*() {
      const a = track(() => Effect.fail(new Fatal({ reason: "bad" })))
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(a.effect, Schedule.recurs(5), { onEvent, while: Retryable.isRetryable }))
      expect(a.times).toHaveLength(1)
      expect(events).toMatchObject([{ _tag: "GaveUp", reason: "not-retryable", attempts: 1 }])
    }))

  it.effect("each retry draws on the budget in scope; a refused retry ends with reason budget", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.makeTokenBucket({ capacity: 10, retryCost: 5 })
      const a = alwaysBusy()
      const { events, onEvent } = collectEvents()
      yield* runClocked(Retry.retry(a.effect, Schedule.spaced("1 second"), { onEvent, budget }))
      expect(a.times).toHaveLength(3)
      expect(events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "GaveUp"])
      expect(events[2]).toMatchObject({ reason: "budget" })
    }))

  it.effect("the schedule's state is fresh for each run of the effect", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      const retried = Retry.retry(a.effect, Schedule.recurs(2))
      yield* runClocked(retried)
      yield* runClocked(retried)
      expect(a.times).toHaveLength(6)
    }))
})

describe("Schedule.CurrentIterationMetadata inside the retried effect", () => {
  const recurrences = () => {
    const seen: Array<number> = []
    const effect = Effect.flatMap(Schedule.CurrentIterationMetadata, (meta) => {
      seen.push(meta.recurrence)
      return seen.length < 3 ? Effect.fail(new Busy({})) : Effect.succeed(meta)
    })
    return { seen, effect }
  }

  it.effect("reads recurrence 0, 1, 2 under Retry.retry(policy), as under Effect.retry(toSchedule(policy))", () =>
    Effect.gen(function*() {
      const viaRetry = recurrences()
      const retried = yield* runClocked(Retry.retry(viaRetry.effect, noJitter))
      const viaSchedule = recurrences()
      const scheduled = yield* runClocked(Effect.retry(viaSchedule.effect, RetryPolicy.toSchedule(noJitter)))
      expect(viaRetry.seen).toEqual([0, 1, 2])
      expect(viaSchedule.seen).toEqual([0, 1, 2])
      // Same metadata as Effect's driver: elapsed since the first retry, the failure as input.
      const ours = Exit.isSuccess(retried) ? retried.value : undefined
      const effects = Exit.isSuccess(scheduled) ? scheduled.value : undefined
      expect(ours).toBeDefined()
      expect(Duration.toMillis(ours!.elapsed)).toBe(Duration.toMillis(effects!.elapsed))
      expect(Duration.toMillis(ours!.elapsedSincePrevious)).toBe(Duration.toMillis(effects!.elapsedSincePrevious))
      expect(ours!.input).toBeInstanceOf(Busy)
      expect(Duration.toMillis(ours!.output as Duration.Duration)).toBe(200)
    }))

  it.effect("reads recurrence 0, 1, 2 under Retry.retry(schedule)", () =>
    Effect.gen(function*() {
      const a = recurrences()
      yield* runClocked(Retry.retry(a.effect, Schedule.exponential("10 millis")))
      expect(a.seen).toEqual([0, 1, 2])
    }))

  // Nested in another retry, each run of the inner call starts from recurrence
  // 0 as Effect.retry's does, not from the outer loop's metadata.
  const nested = (
    inner: (self: Effect.Effect<never, Busy>) => Effect.Effect<never, Busy>,
    outer: (self: Effect.Effect<never, Busy>) => Effect.Effect<never, Busy>
  ) =>
    Effect.gen(function*() {
      const seen: Array<number> = []
      const attempt = Effect.flatMap(Schedule.CurrentIterationMetadata, (meta) => {
        seen.push(meta.recurrence)
        return Effect.fail(new Busy({}))
      })
      yield* runClocked(outer(inner(attempt)))
      return seen
    })
  const effectRetry = (self: Effect.Effect<never, Busy>) => Effect.retry(self, Schedule.recurs(1))
  const retryRetry = (self: Effect.Effect<never, Busy>) => Retry.retry(self, Schedule.recurs(1))
  const policyRetry = (self: Effect.Effect<never, Busy>) =>
    Retry.retry(self, RetryPolicy.make({ maxAttempts: 2, baseDelay: "10 millis", jitter: "none" }))

  it.effect("nested in another retry, each run of the inner call reads recurrence 0 first, as under Effect.retry", () =>
    Effect.gen(function*() {
      const reference = yield* nested(effectRetry, effectRetry)
      expect(reference).toEqual([0, 1, 0, 1])
      expect(yield* nested(retryRetry, effectRetry)).toEqual(reference)
      expect(yield* nested(retryRetry, retryRetry)).toEqual(reference)
      expect(yield* nested(policyRetry, retryRetry)).toEqual(reference)
      expect(yield* nested(effectRetry, retryRetry)).toEqual(reference)
    }))

  type RetryWith = (self: Effect.Effect<never, Busy>, schedule: Schedule.Schedule<number, Busy>) => Effect.Effect<never, Busy>

  /** `Schedule.recurs(times)` that records, at each step, the recurrence its own effects read. */
  const recordingRecurs = (times: number, seen: Array<string>) =>
    Schedule.recurs(times).pipe(
      Schedule.tapInput(() => Effect.map(Schedule.CurrentIterationMetadata, (meta) => void seen.push(`schedule ${meta.recurrence}`)))
    )

  it.effect("a schedule's own effects see the caller's metadata, not the retried effect's, as under Effect.retry", () =>
    Effect.gen(function*() {
      const scheduleSees = (retry: RetryWith) =>
        Effect.gen(function*() {
          const seen: Array<string> = []
          yield* runClocked(retry(Effect.fail(new Busy({})), recordingRecurs(3, seen)))
          return seen
        })
      const reference = yield* scheduleSees((self, schedule) => Effect.retry(self, schedule))
      expect(reference).toEqual(["schedule 0", "schedule 0", "schedule 0", "schedule 0"])
      expect(yield* scheduleSees((self, schedule) => Retry.retry(self, schedule))).toEqual(reference)
    }))

  it.effect("nested, the inner schedule's own effects see the outer loop's metadata, as under Effect.retry", () =>
    Effect.gen(function*() {
      const innerScheduleSees = (retry: RetryWith) =>
        Effect.gen(function*() {
          const seen: Array<string> = []
          const schedule = recordingRecurs(1, seen)
          const body = Effect.flatMap(Schedule.CurrentIterationMetadata, (meta) => {
            seen.push(`body ${meta.recurrence}`)
            return Effect.fail(new Busy({}))
          })
          yield* runClocked(Effect.retry(retry(body, schedule), Schedule.recurs(2)))
          return seen
        })
      const reference = yield* innerScheduleSees((self, schedule) => Effect.retry(self, schedule))
      expect(reference).toContain("schedule 2")
      expect(yield* innerScheduleSees((self, schedule) => Retry.retry(self, schedule))).toEqual(reference)
    }))

  it.effect("nested, a call that gives up at its first failure hands orElse recurrence 0, as Effect.retryOrElse does", () =>
    Effect.gen(function*() {
      const orElseSees = (
        giveUpAtOnce: (
          self: Effect.Effect<never, Busy>,
          orElse: () => Effect.Effect<number>
        ) => Effect.Effect<number>
      ) =>
        Effect.gen(function*() {
          const seen: Array<number> = []
          let outerRuns = 0
          const outer = Effect.suspend(() =>
            giveUpAtOnce(
              Effect.fail(new Busy({})),
              () => Effect.map(Schedule.CurrentIterationMetadata, (meta) => meta.recurrence)
            ).pipe(Effect.flatMap((recurrence) => {
              seen.push(recurrence)
              return ++outerRuns < 2 ? Effect.fail(new Busy({})) : Effect.succeed(recurrence)
            }))
          )
          yield* runClocked(Effect.retry(outer, Schedule.recurs(2)))
          return seen
        })
      const reference = yield* orElseSees((self, orElse) => Effect.retryOrElse(self, Schedule.recurs(0), orElse))
      expect(reference).toEqual([0, 0])
      expect(yield* orElseSees((self, orElse) => Retry.retryOrElse(self, Schedule.recurs(0), orElse))).toEqual(reference)
      expect(yield* orElseSees((self, orElse) => Retry.retryOrElse(self, Schedule.recurs(5), orElse, { while: () => false })))
        .toEqual(reference)
    }))
})

describe("types infer in both call forms", () => {
  class A extends Retryable.TaggedError("A")<{}> {}
  class B extends Retryable.TaggedError("B")<{}> {}
  const call: Effect.Effect<number, A | B> = Effect.fail(new B())

  it.effect("while sees the call's error type, piped and data-first, with a policy and a schedule", () =>
    Effect.gen(function*() {
      const piped = call.pipe(Retry.retry(RetryPolicy.default, { while: (e) => e._tag === "A" }))
      const direct = Retry.retry(call, RetryPolicy.default, { while: (e) => e._tag === "A" })
      const scheduled = call.pipe(Retry.retry(Schedule.recurs(2), { while: (e) => e._tag === "A" }))
      const typed: ReadonlyArray<Effect.Effect<number, A | B>> = [piped, direct, scheduled]
      for (const effect of typed) {
        expect(yield* Effect.flip(effect)).toBeInstanceOf(B)
      }
    }))

  it.effect("toSchedule takes the caller's own classifier", () =>
    Effect.gen(function*() {
      const a = track(() => Effect.fail({ status: 503 }))
      const schedule = RetryPolicy.toSchedule(noJitter, { while: (e: { readonly status: number }) => e.status >= 500 })
      yield* runClocked(Effect.retry(a.effect, schedule))
      expect(a.times).toHaveLength(4)
    }))
})

describe("Retry.retryOrElse", () => {
  it.effect("runs orElse with the last error and the reason when it gives up", () =>
    Effect.gen(function*() {
      const a = alwaysBusy()
      const exit = yield* runClocked(
        Retry.retryOrElse(a.effect, noJitter, (error, reason) => Effect.succeed(`${error.n}: ${reason}`))
      )
      expect(exit).toEqual(Exit.succeed("4: exhausted"))
      const b = track(() => Effect.fail(new Fatal({ reason: "no" })))
      const piped = yield* runClocked(
        b.effect.pipe(Retry.retryOrElse(Schedule.recurs(3), (error, reason) => Effect.fail(`${error._tag} ${reason}`)))
      )
      expect(piped).toEqual(Exit.fail("Fatal schedule-done"))
      expect(b.times).toHaveLength(4)
    }))

  it.effect("orElse reads the last iteration's metadata, as under Effect.retryOrElse", () =>
    Effect.gen(function*() {
      const recurrenceIn = (
        retryOrElse: (orElse: () => Effect.Effect<number>) => Effect.Effect<number>
      ) => runClocked(retryOrElse(() => Effect.map(Schedule.CurrentIterationMetadata, (meta) => meta.recurrence)))
      for (const schedule of [Schedule.recurs(2), Schedule.spaced("1 second").pipe(Schedule.upTo("2500 millis"))]) {
        const effect = yield* recurrenceIn((orElse) => Effect.retryOrElse(Effect.fail("x"), schedule, orElse))
        const ours = yield* recurrenceIn((orElse) => Retry.retryOrElse(Effect.fail("x"), schedule, orElse))
        expect(ours).toEqual(effect)
        expect(effect).not.toEqual(Exit.succeed(0))
      }
      const policy = yield* recurrenceIn((orElse) => Retry.retryOrElse(Effect.fail(new Busy({})), noJitter, orElse))
      expect(policy).toEqual(yield* recurrenceIn((orElse) => Effect.retryOrElse(Effect.fail(new Busy({})), RetryPolicy.toSchedule(noJitter), orElse)))
    }))

  it.effect("a success is returned as it is", () =>
    Effect.gen(function*() {
      const a = busyUntil(2, "ok")
      const exit = yield* runClocked(Retry.retryOrElse(a.effect, noJitter, () => Effect.succeed("fallback")))
      expect(exit).toEqual(Exit.succeed("ok"))
    }))
})

describe("a slow listener never holds the caller", () => {
  const sleepy = (events: Array<string>) => (event: RetryEvent.RetryEvent) =>
    event._tag === "Retrying"
      ? Effect.void
      : Effect.zipRight(Effect.sleep("1500 millis"), Effect.sync(() => void events.push(event._tag)))

  it.effect("uninterrupted, the closing event is delivered before the call returns", () =>
    Effect.gen(function*() {
      const delivered: Array<string> = []
      const a = busyUntil(2, "ok")
      const fiber = yield* Effect.fork(Retry.retry(a.effect, noJitter, { onEvent: sleepy(delivered) }))
      yield* TestClock.adjust("100 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1500 millis")
      expect(yield* Fiber.join(fiber)).toBe("ok")
      expect(delivered).toEqual(["Succeeded"])
    }))

  it.effect("a timeout releases the caller at once; the event still reaches every listener, once", () =>
    Effect.gen(function*() {
      const own: Array<string> = []
      const observed: Array<string> = []
      const observer = RetryObserver.layer(sleepy(observed))
      const a = alwaysBusy()
      const call = Retry.retry(a.effect, RetryPolicy.make({ maxAttempts: 2, baseDelay: 0 }), {
        onEvent: sleepy(own)
      }).pipe(Effect.timeout("100 millis"), Effect.provide(observer))
      const fiber = yield* Effect.fork(Effect.exit(call))
      yield* TestClock.adjust("100 millis")
      const exit = yield* Fiber.join(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(observed).toEqual([])
      // observer first, then the call's own listener, each once
      yield* TestClock.adjust("1500 millis")
      expect(observed).toEqual(["GaveUp"])
      yield* TestClock.adjust("1500 millis")
      expect(own).toEqual(["GaveUp"])
      yield* TestClock.adjust("1 hour")
      expect([...observed, ...own]).toEqual(["GaveUp", "GaveUp"])
    }))

  it.effect("an observer that never returns does not make Fiber.interrupt hang", () =>
    Effect.gen(function*() {
      const a = busyUntil(2, "ok")
      const call = Retry.retry(a.effect, noJitter, { onEvent: (e) => e._tag === "Retrying" ? Effect.void : Effect.never })
      const fiber = yield* Effect.fork(call)
      yield* TestClock.adjust("1 second")
      expect(fiber.unsafePoll()).toBeNull()
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
    }))

  it.effect("interrupted during a backoff, the GaveUp interrupted event is not waited for", () =>
    Effect.gen(function*() {
      const delivered: Array<string> = []
      const a = alwaysBusy()
      const fiber = yield* Effect.fork(Retry.retry(a.effect, noJitter, { onEvent: sleepy(delivered) }))
      yield* TestClock.adjust("10 millis")
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(delivered).toEqual([])
      yield* TestClock.adjust("2 seconds")
      expect(delivered).toEqual(["GaveUp"])
    }))
})

describe("draws and the fixed random", () => {
  it.effect("a fixed Random gives the same delays under Retry.retry(schedule) and Effect.retry(schedule)", () =>
    Effect.gen(function*() {
      const schedule = RetryPolicy.toSchedule(RetryPolicy.default).pipe(Schedule.intersect(Schedule.spaced("3 seconds")))
      const ours = alwaysBusy()
      yield* runClocked(Retry.retry(ours.effect, schedule).pipe(Effect.withRandom(draws([0.1, 0.9, 0.4]))))
      const effects = alwaysBusy()
      yield* runClocked(Effect.retry(effects.effect, schedule).pipe(Effect.withRandom(draws([0.1, 0.9, 0.4]))))
      expect(relative(ours.times)).toEqual(relative(effects.times))
    }))
})

layer(Layer.mergeAll(TestServerLive, NodeHttpClient.layer), { excludeTestServices: true })(
  "Schedule.CurrentIterationMetadata under HttpRetry.withRetry",
  (it) => {
    it.effect("a transform below withRetry reads recurrence 0, 1, 2", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit < 3 ? 503 : 200))
        const seen: Array<number> = []
        const inner = (yield* HttpClient.HttpClient).pipe(
          HttpClient.transform((response) =>
            Effect.flatMap(Schedule.CurrentIterationMetadata, (meta) => {
              seen.push(meta.recurrence)
              return response
            })
          )
        )
        const policy = RetryPolicy.make({ baseDelay: "10 millis", jitter: "none" })
        const response = yield* HttpRetry.withRetry(inner, policy).get(server.url())
        expect(response.status).toBe(200)
        expect(seen).toEqual([0, 1, 2])
      }))
  }
)
