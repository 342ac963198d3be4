/**
 * The one decision of a retry policy: after a failed attempt, retry after a
 * delay (and where that delay came from) or stop (and why). Everything here is
 * pure: random draws come in as numbers in [0, 1), and `draws` says how many a
 * step takes, so that every runner (`Retry.retry`, `RetryPolicy.toSchedule`,
 * the CLI's `explain` and simulator) draws the same numbers in the same order.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import type * as RetryPolicy from "../RetryPolicy.js"
import type { Jitter } from "../RetrySchedule.js"
import * as Delay from "./delay.js"

/** A policy's numbers in milliseconds. */
export interface Plan {
  readonly maxAttempts: number
  readonly baseMillis: number
  readonly factor: number
  readonly jitter: Jitter
  readonly capMillis: number
  readonly maxElapsedMillis: number | undefined
  readonly hints: Delay.HintRules | undefined
}

/** What is known when an attempt has failed. */
export interface Input {
  /** The 1-based number of the attempt that failed. */
  readonly attempt: number
  /** Whether the failure may be retried at all. */
  readonly retryable: boolean
  /** The failure's Retry-After hint in milliseconds, if it has one. */
  readonly hintMillis?: number | undefined
  /** The backoff of the previous retry (the base delay before the first); only decorrelated jitter reads it. */
  readonly previousMillis: number
  /** Time since the total budget began (the start of the first attempt). */
  readonly elapsedMillis: number
}

/** Retry after `delayMillis`; `backoffMillis` is the capped backoff, the next step's `previousMillis`. */
export interface Retry {
  readonly _tag: "Retry"
  readonly delayMillis: number
  readonly backoffMillis: number
  readonly delayFrom: "backoff" | "retry-after"
}

/** Stop retrying, for `reason`. */
export interface Stop {
  readonly _tag: "Stop"
  readonly reason: "not-retryable" | "exhausted" | "retry-after-too-long" | "deadline"
}

/** The outcome of one step. */
export type Decision = Retry | Stop

const stops = {
  "not-retryable": { _tag: "Stop", reason: "not-retryable" },
  exhausted: { _tag: "Stop", reason: "exhausted" },
  "retry-after-too-long": { _tag: "Stop", reason: "retry-after-too-long" },
  deadline: { _tag: "Stop", reason: "deadline" }
} as const satisfies Record<Stop["reason"], Stop>

const plans = new WeakMap<RetryPolicy.RetryPolicy, Plan>()

/** The plan of a policy, resolved once per policy. */
export const planOf = (policy: RetryPolicy.RetryPolicy): Plan => {
  let plan = plans.get(policy)
  if (plan === undefined) {
    const rules = policy.retryAfter
    plan = {
      maxAttempts: policy.maxAttempts,
      baseMillis: Duration.toMillis(policy.baseDelay),
      factor: policy.factor,
      jitter: policy.jitter,
      capMillis: Duration.toMillis(policy.maxDelay),
      maxElapsedMillis: Option.isSome(policy.maxElapsed) ? Duration.toMillis(policy.maxElapsed.value) : undefined,
      hints: rules === false
        ? undefined
        : { maxMillis: Duration.toMillis(rules.max), whenAboveMax: rules.whenAboveMax, spread: rules.spread }
    }
    plans.set(policy, plan)
  }
  return plan
}

/** Whether the step stops before any arithmetic (and so before any draw). */
const early = (plan: Plan, input: Input): Stop | undefined =>
  !input.retryable
    ? stops["not-retryable"]
    : input.attempt >= plan.maxAttempts
    ? stops.exhausted
    : undefined

const hintApplies = (plan: Plan, input: Input): input is Input & { readonly hintMillis: number } =>
  plan.hints !== undefined && input.hintMillis !== undefined

/**
 * How many random draws the step for `input` takes: none when it stops at once
 * (not retryable, or no attempts left), one for jitter unless it is `"none"`,
 * and one for a Retry-After hint's spread when the hint is honoured.
 */
export const draws = (plan: Plan, input: Input): 0 | 1 | 2 => {
  if (early(plan, input) !== undefined) return 0
  const jitter = Delay.jitterDraws(plan.jitter) ? 1 : 0
  const hint = hintApplies(plan, input) && Delay.hintDraws(plan.hints!, input.hintMillis) ? 1 : 0
  return (jitter + hint) as 0 | 1 | 2
}

/**
 * The backoff before retry number `retry` (1-based) for a jitter draw: the
 * exponential delay, jittered, capped.
 */
export const backoffMillis = (
  plan: Pick<Plan, "baseMillis" | "factor" | "jitter" | "capMillis">,
  retry: number,
  previousMillis: number,
  draw: number
): number =>
  Math.min(
    Delay.jitterMillis(
      plan.jitter,
      Delay.exponentialMillis(plan.baseMillis, plan.factor, retry),
      draw,
      plan.baseMillis,
      previousMillis,
      plan.capMillis
    ),
    plan.capMillis
  )

/** `backoffMillis` with its jitter draw taken from Effect's `Random` (none for `"none"`). */
export const drawBackoff = (
  plan: Pick<Plan, "baseMillis" | "factor" | "jitter" | "capMillis">,
  retry: number,
  previousMillis: number
): Effect.Effect<number> =>
  Delay.jitterDraws(plan.jitter)
    ? Effect.map(Random.next, (draw) => backoffMillis(plan, retry, previousMillis, draw))
    : Effect.succeed(backoffMillis(plan, retry, previousMillis, 0))

/**
 * The decision after a failed attempt, given the random draws the step takes
 * (`draws(plan, input)` of them, in order: jitter first, then the hint's
 * spread). Checks run in this order: retryable, attempts left, backoff, the
 * Retry-After hint, the total budget.
 */
export const decide = (plan: Plan, input: Input, randomDraws: ReadonlyArray<number>): Decision => {
  const stopped = early(plan, input)
  if (stopped !== undefined) return stopped
  let used = 0
  const jitterDraw = Delay.jitterDraws(plan.jitter) ? randomDraws[used++] ?? 0 : 0
  const backoff = backoffMillis(plan, input.attempt, input.previousMillis, jitterDraw)
  let delayMillis = backoff
  let delayFrom: Retry["delayFrom"] = "backoff"
  if (hintApplies(plan, input)) {
    const rules = plan.hints!
    const hintDraw = Delay.hintDraws(rules, input.hintMillis) ? randomDraws[used++] ?? 0 : 0
    const outcome = Delay.hintDecision(rules, input.hintMillis, hintDraw)
    if (outcome._tag === "TooLong") return stops["retry-after-too-long"]
    if (outcome._tag === "Wait") {
      delayMillis = outcome.millis
      delayFrom = "retry-after"
    }
  }
  if (plan.maxElapsedMillis !== undefined && Delay.overshoots(input.elapsedMillis, delayMillis, plan.maxElapsedMillis)) {
    return stops.deadline
  }
  return { _tag: "Retry", delayMillis, backoffMillis: backoff, delayFrom }
}

/** `decide` with its draws taken from Effect's `Random`. */
export const step = (plan: Plan, input: Input): Effect.Effect<Decision> => {
  switch (draws(plan, input)) {
    case 0:
      return Effect.succeed(decide(plan, input, noDraws))
    case 1:
      return Effect.map(Random.next, (a) => decide(plan, input, [a]))
    case 2:
      return Effect.flatMap(Random.next, (a) => Effect.map(Random.next, (b) => decide(plan, input, [a, b])))
  }
}

const noDraws: ReadonlyArray<number> = []

/**
 * The plan as a Schedule whose input is the failure, for `Effect.retry`: each
 * step is `step`, so it draws what `Retry.retry` draws. Its output is the
 * backoff (jittered and capped; kept from the last retry when it stops). The
 * total budget begins at the first failure, which is the first time a
 * Schedule sees.
 */
export const toSchedule = <E>(
  plan: Plan,
  isRetryable: (error: E) => boolean,
  hintOf: (error: E) => number | undefined
): Schedule.Schedule<Duration.Duration, E> => {
  interface State {
    readonly attempt: number
    readonly previousMillis: number
    readonly startMillis: number | undefined
    readonly output: Duration.Duration
  }
  const initial: State = { attempt: 1, previousMillis: plan.baseMillis, startMillis: undefined, output: Duration.zero }
  return Schedule.makeWithState<State, E, Duration.Duration>(initial, (now, error, state) => {
    const startMillis = state.startMillis ?? now
    const retryable = isRetryable(error)
    const input: Input = {
      attempt: state.attempt,
      retryable,
      hintMillis: retryable && plan.hints !== undefined ? hintOf(error) : undefined,
      previousMillis: state.previousMillis,
      elapsedMillis: now - startMillis
    }
    return Effect.map(step(plan, input), (decision) => {
      if (decision._tag === "Stop") return [state, state.output, ScheduleDecision.done] as const
      const output = Duration.millis(decision.backoffMillis)
      const next: State = { attempt: state.attempt + 1, previousMillis: decision.backoffMillis, startMillis, output }
      return [next, output, ScheduleDecision.continueWith(ScheduleInterval.after(now + decision.delayMillis))] as const
    })
  })
}
