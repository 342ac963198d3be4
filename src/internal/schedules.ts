import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as Intervals from "effect/ScheduleIntervals"
import type * as RetrySchedule from "../RetrySchedule.js"
import * as Decision from "./decision.js"
import * as Defaults from "./defaults.js"
import * as Delay from "./delay.js"
import * as PolicyOptions from "./policyOptions.js"
import * as Retryable from "./retryable.js"
import * as Validate from "./validate.js"

// The bodies of the `RetrySchedule` combinators.

type Step<S, Out> = readonly [S, Out, ScheduleDecision.ScheduleDecision]

/**
 * A dual `Schedule -> Schedule` combinator whose argument is checked as soon
 * as it is given: `limited(0)` throws when called, not when applied.
 */
const checkedDual = <A, B>(
  check: (argument: A) => B,
  body: (self: Schedule.Schedule<any, any, any>, checked: B) => Schedule.Schedule<any, any, any>
): any =>
  function(...args: Array<any>) {
    if (Schedule.isSchedule(args[0])) return body(args[0] as Schedule.Schedule<any, any, any>, check(args[1]))
    const checked = check(args[0])
    return (self: Schedule.Schedule<any, any, any>) => body(self, checked)
  }

const toMillis = (duration: Duration.Duration): number => Duration.toMillis(duration)

const continueAfter = (now: number, delayMillis: number): ScheduleDecision.ScheduleDecision =>
  ScheduleDecision.continueWith(ScheduleInterval.after(now + delayMillis))

const delayOf = (now: number, decision: ScheduleDecision.Continue): number =>
  Math.max(0, Intervals.start(decision.intervals) - now)

/** The body of `RetrySchedule.backoff`. */
export const backoff = (options: RetrySchedule.BackoffOptions = {}): Schedule.Schedule<Duration.Duration, unknown> => {
  Validate.knownKeys("", Validate.record("options", options), ["baseDelay", "factor", "jitter", "maxDelay"])
  const baseMillis = toMillis(Validate.finiteDuration("baseDelay", options.baseDelay ?? Defaults.baseDelay))
  const factor = Validate.numberAtLeast("factor", options.factor ?? Defaults.factor, 1)
  const jitter = PolicyOptions.orThrow("jitter", PolicyOptions.jitter, options.jitter ?? Defaults.jitter)
  const capMillis = options.maxDelay === undefined ? Infinity : toMillis(Validate.duration("maxDelay", options.maxDelay))
  const plan = { baseMillis, factor, jitter, capMillis }
  type State = { readonly retry: number; readonly previousMillis: number }
  return Schedule.makeWithState<State, unknown, Duration.Duration>(
    { retry: 0, previousMillis: baseMillis },
    (now, _input, state) => {
      const retry = state.retry + 1
      return Effect.map(
        Decision.drawBackoff(plan, retry, state.previousMillis),
        (millis): Step<State, Duration.Duration> => [
          { retry, previousMillis: millis },
          Duration.millis(millis),
          continueAfter(now, millis)
        ]
      )
    }
  )
}

/** The body of `RetrySchedule.capped`. */
export const capped = checkedDual(
  (max: unknown) => Validate.duration("maxDelay", max),
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, cap: Duration.Duration) =>
    Schedule.modifyDelay(self, (_, delay) => Duration.min(delay, cap))
)

/** The body of `RetrySchedule.limited`. */
export const limited = checkedDual(
  (maxAttempts: unknown) => Validate.integerAtLeast("maxAttempts", maxAttempts, 1),
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, attempts: number) =>
    Schedule.zipLeft(self, Schedule.recurs(attempts - 1))
)

/** The body of `RetrySchedule.honorRetryAfter`. */
export const honorRetryAfter = checkedDual(
  (options: unknown) => {
    const rules = PolicyOptions.orThrow("retryAfter", PolicyOptions.retryAfterRules, options ?? {})
    return { maxMillis: toMillis(rules.max), whenAboveMax: rules.whenAboveMax, spread: rules.spread }
  },
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, rules: Delay.HintRules) => {
    return Schedule.makeWithState(self.initial, (now, input: In, state) =>
      Effect.flatMap(self.step(now, input, state), (step) => {
        const [next, out, decision] = step
        if (ScheduleDecision.isDone(decision)) return Effect.succeed(step)
        const hint = Retryable.retryAfter(input)
        if (Option.isNone(hint)) return Effect.succeed(step)
        const hintMillis = toMillis(hint.value)
        const decide = (draw: number): Step<typeof state, Out> => {
          const outcome = Delay.hintDecision(rules, hintMillis, draw)
          switch (outcome._tag) {
            case "UseBackoff":
              return step
            case "TooLong":
              return [next, out, ScheduleDecision.done]
            case "Wait":
              return [next, out, continueAfter(now, outcome.millis)]
          }
        }
        return Delay.hintDraws(rules, hintMillis) ? Effect.map(Random.next, decide) : Effect.succeed(decide(0))
      }))
  }
)

/** The body of `RetrySchedule.whileRetryable`. */
export const whileRetryable = dual(
  (args) => Schedule.isSchedule(args[0]),
  <Out, In, R, E>(self: Schedule.Schedule<Out, In, R>, isRetryable: (error: E) => boolean = Retryable.isRetryable) =>
    Schedule.whileInput(self, isRetryable as (input: In & E) => boolean)
)

/** The body of `RetrySchedule.deadline`. */
export const deadline = checkedDual((maxElapsed: unknown) => toMillis(Validate.duration("maxElapsed", maxElapsed)), <Out, In, R>(
  self: Schedule.Schedule<Out, In, R>,
  budgetMillis: number
) => {
  type State = readonly [inner: typeof self.initial, startMillis: number | undefined]
  return Schedule.makeWithState<State, In, Out, R>([self.initial, undefined], (now, input, [inner, startedAt]) => {
    const start = startedAt ?? now
    return Effect.map(self.step(now, input, inner), ([next, out, decision]): Step<State, Out> => {
      const stop = ScheduleDecision.isDone(decision) ||
        Delay.overshoots(now - start, delayOf(now, decision), budgetMillis)
      return [[next, start], out, stop ? ScheduleDecision.done : decision]
    })
  })
})
