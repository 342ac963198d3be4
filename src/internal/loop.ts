import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Retryable from "../Retryable.js"
import * as RetryBudget from "../RetryBudget.js"
import * as RetryEvent from "../RetryEvent.js"
import type * as RetryPolicy from "../RetryPolicy.js"
import * as Delay from "./delay.js"
import { type Listener, report } from "./report.js"

/** What a retry loop needs besides the policy. */
export interface LoopOptions<A, E> {
  readonly isRetryable: (error: E) => boolean
  readonly onEvent?: Listener | undefined
  /** Adds request details to each event (HTTP). */
  readonly describe?: ((error: E | undefined) => RetryEvent.HttpInfo) | undefined
  /** Reads a failure's Retry-After hint; `Retryable.retryAfter` by default. */
  readonly hint?: ((error: E, now: number) => Option.Option<Duration.Duration>) | undefined
  /** A budget to draw on instead of the `RetryBudget` in the context. */
  readonly budget?: RetryBudget.Service | undefined
  /** What the call ends with when it gives up; by default it fails with the last error. */
  readonly recover?: ((error: E) => Effect.Effect<A, E>) | undefined
}

type Decision =
  | {
    readonly _tag: "Retry"
    readonly delayMillis: number
    readonly backoffMillis: number
    readonly delayFrom: RetryEvent.DelaySource
  }
  | { readonly _tag: "Stop"; readonly reason: RetryEvent.GiveUpReason }

const stop = (reason: RetryEvent.GiveUpReason): Decision => ({ _tag: "Stop", reason })

/** A policy's numbers in milliseconds, resolved once per policy. */
interface Plan {
  readonly baseMillis: number
  readonly capMillis: number
  readonly maxElapsedMillis: number | undefined
  readonly hints: Delay.HintRules | undefined
}

const plans = new WeakMap<RetryPolicy.RetryPolicy, Plan>()

const planOf = (policy: RetryPolicy.RetryPolicy): Plan => {
  let plan = plans.get(policy)
  if (plan === undefined) {
    const rules = policy.retryAfter
    plan = {
      baseMillis: Duration.toMillis(policy.baseDelay),
      capMillis: Duration.toMillis(policy.maxDelay),
      maxElapsedMillis: Option.getOrUndefined(Option.map(policy.maxElapsed, Duration.toMillis)),
      hints: rules === false
        ? undefined
        : { maxMillis: Duration.toMillis(rules.max), whenAboveMax: rules.whenAboveMax, spread: rules.spread }
    }
    plans.set(policy, plan)
  }
  return plan
}

/**
 * The decision after attempt number `attempts` failed with `error`. It makes
 * the same checks and the same random draws, in the same order, as the
 * schedule of `RetryPolicy.toSchedule` (backoff, cap, Retry-After, retryable,
 * limit), from the same arithmetic in `delay.ts`, without stepping a Schedule.
 */
const decide = <E>(
  policy: RetryPolicy.RetryPolicy,
  plan: Plan,
  isRetryable: (error: E) => boolean,
  hintOf: (error: E, now: number) => Option.Option<Duration.Duration>,
  error: E,
  attempts: number,
  previousMillis: number,
  startMillis: number,
  now: number
): Effect.Effect<Decision> => {
  if (!isRetryable(error)) return Effect.succeed(stop("not-retryable"))
  if (attempts >= policy.maxAttempts) return Effect.succeed(stop("exhausted"))
  const exponential = Delay.exponentialMillis(plan.baseMillis, policy.factor, attempts)
  const withBackoff = (draw: number): Effect.Effect<Decision> => {
    const jittered = Delay.jitterMillis(policy.jitter, exponential, draw, plan.baseMillis, previousMillis, plan.capMillis)
    const backoffMillis = Math.min(jittered, plan.capMillis)
    const hint = plan.hints === undefined ? Option.none() : hintOf(error, now)
    if (plan.hints === undefined || Option.isNone(hint)) return Effect.succeed(withinDeadline(backoffMillis, backoffMillis, "backoff"))
    const rules = plan.hints
    const hintMillis = Duration.toMillis(hint.value)
    const withHint = (hintDraw: number): Decision => {
      const outcome = Delay.hintDecision(rules, hintMillis, hintDraw)
      switch (outcome._tag) {
        case "TooLong":
          return stop("retry-after-too-long")
        case "Wait":
          return withinDeadline(outcome.millis, backoffMillis, "retry-after")
        case "UseBackoff":
          return withinDeadline(backoffMillis, backoffMillis, "backoff")
      }
    }
    return Delay.hintDraws(rules, hintMillis) ? Effect.map(Random.next, withHint) : Effect.succeed(withHint(0))
  }
  const withinDeadline = (delayMillis: number, backoffMillis: number, delayFrom: RetryEvent.DelaySource): Decision =>
    plan.maxElapsedMillis !== undefined && Delay.overshoots(startMillis, now, delayMillis, plan.maxElapsedMillis)
      ? stop("deadline")
      : { _tag: "Retry", delayMillis, backoffMillis, delayFrom }
  return Delay.jitterDraws(policy.jitter) ? Effect.flatMap(Random.next, withBackoff) : withBackoff(0)
}

/**
 * Runs `attempt(retries)` under a policy: the first attempt runs with nothing
 * around it but a `catchAll`, and each retry is decided only once an attempt
 * has failed, so the success path costs next to nothing.
 */
export const runWithRetry = <A, E, R>(
  attempt: (retries: number) => Effect.Effect<A, E, R>,
  policy: RetryPolicy.RetryPolicy,
  options: LoopOptions<A, E>
): Effect.Effect<A, E, R> => {
  const name = policy.name
  const describe = options.describe
  const http = (error: E | undefined) => describe === undefined ? {} : { http: describe(error) }

  const plan = planOf(policy)
  const hintOf = options.hint ?? Retryable.retryAfter

  /** Where one run of the call stands once it has failed, so that its end can be reported however it comes. */
  interface Run {
    readonly startMillis: number
    readonly budget: RetryBudget.Service | undefined
    error: E
    attempts: number
    /** Budget tokens this call's retries withdrew. */
    spent: number
    ended: boolean
  }

  const loop = (run: Run, previousMillis: number): Effect.Effect<A, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(
        decide(policy, plan, options.isRetryable, hintOf, run.error, run.attempts, previousMillis, run.startMillis, now),
        (decision) => {
          if (decision._tag === "Stop") return giveUp(run, decision.reason)
          return run.budget === undefined
            ? sleepThenRetry(run, decision)
            : Effect.flatMap(run.budget.withdraw(kindOf(run.error)), (tokens) => {
              if (Option.isNone(tokens)) return giveUp(run, "budget")
              run.spent += tokens.value
              return sleepThenRetry(run, decision)
            })
        }
      ))

  const sleepThenRetry = (run: Run, decision: Extract<Decision, { _tag: "Retry" }>): Effect.Effect<A, E, R> => {
    const { attempts, error } = run
    const delayMillis = decision.delayMillis
    const event = RetryEvent.Retrying({
      attempt: attempts,
      maxAttempts: policy.maxAttempts,
      delay: Duration.millis(delayMillis),
      delayFrom: decision.delayFrom,
      error,
      name,
      ...http(error)
    })
    const retried = Effect.matchEffect(attempt(attempts), {
      onFailure: (error) => {
        run.error = error
        run.attempts = attempts + 1
        return loop(run, decision.backoffMillis)
      },
      onSuccess: (value) => {
        run.ended = true
        const succeeded = report(RetryEvent.Succeeded({ attempts: attempts + 1, name, ...http(undefined) }), options.onEvent)
        // Uninterruptible: once `ended` is set, the closing event must reach every listener.
        return Effect.as(
          Effect.uninterruptible(
            run.budget === undefined ? succeeded : Effect.zipRight(run.budget.succeeded(run.spent), succeeded)
          ),
          value
        )
      }
    })
    return Effect.zipRight(
      report(event, options.onEvent),
      delayMillis > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(delayMillis)), retried) : retried
    )
  }

  const recover = options.recover ?? Effect.fail
  const giveUp = (run: Run, reason: RetryEvent.GiveUpReason): Effect.Effect<A, E> => {
    run.ended = true
    return Effect.zipRight(Effect.uninterruptible(reportGaveUp(run, reason)), recover(run.error))
  }
  const reportGaveUp = (run: Run, reason: RetryEvent.GiveUpReason) =>
    report(
      RetryEvent.GaveUp({ attempts: run.attempts, error: run.error, reason, name, ...http(run.error) }),
      options.onEvent
    )

  // An interruption or a defect after retrying began still closes the call's
  // events, so that a status line showing "retrying" is cleared.
  const reportAbnormalEnd = (run: Run) => (exit: Exit.Exit<A, E>) =>
    Exit.isFailure(exit) && !run.ended
      ? reportGaveUp(run, Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect")
      : Effect.void

  const onFirstFailure = (startMillis: number, budget: RetryBudget.Service | undefined) => (error: E) => {
    const run: Run = { startMillis, budget, error, attempts: 1, spent: 0, ended: false }
    return Effect.onExit(loop(run, plan.baseMillis), reportAbnormalEnd(run))
  }

  // Built once: the handler for calls that have neither a budget nor a deadline.
  const onFirstFailureAlone = onFirstFailure(0, undefined)

  // The first attempt runs with one read of the fiber's context (for a budget
  // and, when one is needed, the clock) and a `catchAll`: nothing else is
  // built until an attempt fails.
  const firstAttempt = Effect.withFiberRuntime<A, E, R>((fiber) => {
    const budget: RetryBudget.Service | undefined = options.budget ??
      fiber.currentContext.unsafeMap.get(RetryBudget.RetryBudget.key)
    if (budget === undefined && plan.maxElapsedMillis === undefined) {
      return Effect.catchAll(attempt(0), onFirstFailureAlone)
    }
    const now = Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()
    if (budget === undefined) return Effect.catchAll(attempt(0), onFirstFailure(now, undefined))
    budget.unsafeRequest(now)
    const counted = Effect.map(attempt(0), (value) => {
      budget.unsafeSucceeded(0)
      return value
    })
    return Effect.catchAll(counted, onFirstFailure(now, budget))
  })

  return firstAttempt
}

// A timeout, bare or as the cause of another error (HTTP's attempt timeout is a RequestError whose cause is one).
const kindOf = (error: unknown): RetryBudget.RetryKind =>
  Cause.isTimeoutException(error) ||
    (typeof error === "object" && error !== null && Cause.isTimeoutException((error as { cause?: unknown }).cause))
    ? "timeout"
    : "error"
