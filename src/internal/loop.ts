import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Retryable from "../Retryable.js"
import * as RetryEvent from "../RetryEvent.js"
import type * as RetryPolicy from "../RetryPolicy.js"
import { scheduleWithout } from "../RetryPolicy.js"
import { delayOf } from "../RetrySchedule.js"
import * as Delay from "./delay.js"
import { type Listener, report } from "./report.js"

/** What a retry loop needs besides the policy. */
export interface LoopOptions<E> {
  readonly isRetryable: (error: E) => boolean
  readonly onEvent?: Listener | undefined
  /** Adds request details to each event (HTTP). */
  readonly describe?: ((error: E | undefined) => RetryEvent.HttpInfo) | undefined
}

const defaultSchedules = new WeakMap<RetryPolicy.RetryPolicy, Schedule.Schedule<Duration.Duration, unknown>>()

/** The policy's schedule without its deadline (the loop checks that itself, from the first attempt). */
const scheduleFor = (
  policy: RetryPolicy.RetryPolicy,
  isRetryable: (error: any) => boolean
): Schedule.Schedule<Duration.Duration, unknown> => {
  if (isRetryable !== Retryable.isRetryable) return scheduleWithout(policy, isRetryable)
  let schedule = defaultSchedules.get(policy)
  if (schedule === undefined) {
    schedule = scheduleWithout(policy, Retryable.isRetryable)
    defaultSchedules.set(policy, schedule)
  }
  return schedule
}

const hintTooLong = (policy: RetryPolicy.RetryPolicy, error: unknown): boolean => {
  const rules = policy.retryAfter
  if (rules === false || rules.whenAboveMax !== "fail") return false
  return Option.match(Retryable.retryAfter(error), {
    onNone: () => false,
    onSome: (hint) => Duration.greaterThan(hint, rules.max)
  })
}

/** Why the schedule said stop, in the order its combinators check. */
const stopReason = <E>(
  policy: RetryPolicy.RetryPolicy,
  isRetryable: (error: E) => boolean,
  error: E,
  attempts: number
): RetryEvent.GiveUpReason => {
  if (!isRetryable(error)) return "not-retryable"
  if (attempts >= policy.maxAttempts) return "exhausted"
  if (hintTooLong(policy, error)) return "retry-after-too-long"
  return "exhausted"
}

/**
 * Runs `attempt(retries)` under a policy: the first attempt runs with nothing
 * around it but a `catchAll`, and the schedule is stepped only once an attempt
 * has failed, so the success path costs next to nothing.
 */
export const runWithRetry = <A, E, R>(
  attempt: (retries: number) => Effect.Effect<A, E, R>,
  policy: RetryPolicy.RetryPolicy,
  options: LoopOptions<E>
): Effect.Effect<A, E, R> => {
  const name = policy.name
  const describe = options.describe
  const http = (error: E | undefined) => describe === undefined ? {} : { http: describe(error) }

  const loop = (
    schedule: Schedule.Schedule<Duration.Duration, unknown>,
    startMillis: number,
    error: E,
    attempts: number,
    state: unknown
  ): Effect.Effect<A, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(schedule.step(now, error, state), ([next, _, decision]) => {
        if (ScheduleDecision.isDone(decision)) {
          return giveUp(error, attempts, stopReason(policy, options.isRetryable, error, attempts))
        }
        const delayMillis = delayOf(now, decision)
        if (Option.isSome(policy.maxElapsed)) {
          const budget = Duration.toMillis(policy.maxElapsed.value)
          if (Delay.overshoots(startMillis, now, delayMillis, budget)) return giveUp(error, attempts, "deadline")
        }
        const event = RetryEvent.Retrying({
          attempt: attempts,
          maxAttempts: policy.maxAttempts,
          delay: Duration.millis(delayMillis),
          error,
          name,
          ...http(error)
        })
        const retried = Effect.matchEffect(attempt(attempts), {
          onFailure: (error) => loop(schedule, startMillis, error, attempts + 1, next),
          onSuccess: (value) =>
            Effect.as(report(RetryEvent.Succeeded({ attempts: attempts + 1, name, ...http(undefined) }), options.onEvent), value)
        })
        return Effect.zipRight(
          report(event, options.onEvent),
          delayMillis > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(delayMillis)), retried) : retried
        )
      }))

  const giveUp = (error: E, attempts: number, reason: RetryEvent.GiveUpReason): Effect.Effect<never, E> =>
    Effect.zipRight(
      report(RetryEvent.GaveUp({ attempts, error, reason, name, ...http(error) }), options.onEvent),
      Effect.fail(error)
    )

  const onFirstFailure = (startMillis: number) => (error: E) => {
    const schedule = scheduleFor(policy, options.isRetryable)
    return loop(schedule, startMillis, error, 1, schedule.initial)
  }

  return Option.isNone(policy.maxElapsed)
    ? Effect.catchAll(attempt(0), onFirstFailure(0))
    : Effect.flatMap(Clock.currentTimeMillis, (start) => Effect.catchAll(attempt(0), onFirstFailure(start)))
}
