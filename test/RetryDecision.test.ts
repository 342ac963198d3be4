import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { RetryDecision, RetryPolicy } from "../src/index.js"
import { draws as fixed } from "./helpers.js"

const plan = RetryDecision.plan(
  RetryPolicy.make({
    maxAttempts: 4,
    baseDelay: 100,
    maxDelay: 1000,
    jitter: "full",
    maxElapsed: 2000,
    retryAfter: { max: 5000, spread: 0.5, whenAboveMax: "fail" }
  })
)
const input = { attempt: 1, retryable: true, previousMillis: 100, elapsedMillis: 0 }

describe("RetryDecision", () => {
  it("stops at once, with no draw, for a failure that is not retryable or when attempts are used up", () => {
    expect(RetryDecision.draws(plan, { ...input, retryable: false })).toBe(0)
    expect(RetryDecision.decide(plan, { ...input, retryable: false }, [])).toEqual({ _tag: "Stop", reason: "not-retryable" })
    expect(RetryDecision.draws(plan, { ...input, attempt: 4 })).toBe(0)
    expect(RetryDecision.decide(plan, { ...input, attempt: 4 }, [])).toEqual({ _tag: "Stop", reason: "exhausted" })
  })

  it("draws once for jitter, then once for an honoured hint", () => {
    expect(RetryDecision.draws(plan, input)).toBe(1)
    expect(RetryDecision.decide(plan, { ...input, attempt: 3 }, [0.5])).toEqual({
      _tag: "Retry",
      delayMillis: 200,
      backoffMillis: 200,
      delayFrom: "backoff"
    })
    const hinted = { ...input, hintMillis: 1000 }
    expect(RetryDecision.draws(plan, hinted)).toBe(2)
    expect(RetryDecision.decide(plan, hinted, [0.5, 0.5])).toEqual({
      _tag: "Retry",
      delayMillis: 1250,
      backoffMillis: 50,
      delayFrom: "retry-after"
    })
  })

  it("a hint above its maximum stops; a retry that would end past the budget stops", () => {
    expect(RetryDecision.decide(plan, { ...input, hintMillis: 6000 }, [0.5])).toEqual({
      _tag: "Stop",
      reason: "retry-after-too-long"
    })
    expect(RetryDecision.decide(plan, { ...input, elapsedMillis: 1990 }, [0.5])).toEqual({ _tag: "Stop", reason: "deadline" })
    expect(RetryDecision.decide(plan, { ...input, elapsedMillis: 1950 }, [0.5])).toMatchObject({ _tag: "Retry" })
  })

  it("backoff caps after jitter", () => {
    expect(RetryDecision.backoff(plan, 5, 100, 0.99)).toBe(1000)
    expect(RetryDecision.backoff(plan, 2, 100, 0.25)).toBe(50)
  })

  it.effect("step draws from Random", () =>
    Effect.gen(function*() {
      const decision = yield* RetryDecision.step(plan, { ...input, hintMillis: 1000 }).pipe(
        Effect.withRandom(fixed([0.5, 0]))
      )
      expect(decision).toEqual({ _tag: "Retry", delayMillis: 1000, backoffMillis: 50, delayFrom: "retry-after" })
    }))
})
