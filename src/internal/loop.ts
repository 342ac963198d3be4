import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import * as Retryable from "../Retryable.js"
import * as RetryBudget from "../RetryBudget.js"
import * as RetryCooldown from "../RetryCooldown.js"
import * as RetryEvent from "../RetryEvent.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as Decision from "./decision.js"
import * as Delay from "./delay.js"
import { clockOf } from "./fiberClock.js"
import { type Listener, report, reportClosing } from "./report.js"

/** What a call is retried under: a policy, or any Schedule whose input is the failure. */
export type Engine<E, R> = RetryPolicy.RetryPolicy | Schedule.Schedule<unknown, E, R>

/** What a retry loop needs besides the policy or schedule. */
export interface LoopOptions<A, E> {
  /** Decides which failures are retried. Default: `Retryable.isRetryable` for a policy, every failure for a schedule. */
  readonly isRetryable?: ((error: E) => boolean) | undefined
  readonly onEvent?: Listener | undefined
  /** Adds request details to each event (HTTP). */
  readonly describe?: ((error: E | undefined) => RetryEvent.HttpInfo) | undefined
  /** Reads a failure's Retry-After hint; `Retryable.retryAfter` by default. */
  readonly hint?: ((error: E, now: number) => Option.Option<Duration.Duration>) | undefined
  /** A budget to draw on instead of the `RetryBudget` in the context. */
  readonly budget?: RetryBudget.Service | undefined
  /** What the call ends with when it gives up; by default it fails with the last error. */
  readonly recover?: ((error: E, reason: RetryEvent.GiveUpReason) => Effect.Effect<A, E>) | undefined
  /** The name events carry when the engine is a schedule (a policy carries its own). */
  readonly name?: string | undefined
  /**
   * The call's cool-down key (read only when needed) and whether its first
   * attempt waits for a running cool-down too; used when a `RetryCooldown` is
   * in the context.
   */
  readonly cooldown?: { readonly key: () => string; readonly firstAttempts: boolean } | undefined
}

/** One retry decided: how long to sleep, where that came from, and the step's output. */
interface Next {
  readonly _tag: "Retry"
  readonly delayMillis: number
  readonly delayFrom: RetryEvent.DelaySource
  readonly output: unknown
}

type Step = Next | { readonly _tag: "Stop"; readonly reason: RetryEvent.GiveUpReason }

/** Where one run of the call stands once it has failed, so that its end can be reported however it comes. */
interface Run<E> {
  readonly startMillis: number
  readonly budget: RetryBudget.Service | undefined
  readonly cooldown: RetryCooldown.Service | undefined
  /** The Retry-After hint of the last failure, until it is recorded as a cool-down. */
  hintMillis: number | undefined
  error: E
  /** Attempts made so far. */
  attempts: number
  /** Budget tokens this call's retries withdrew. */
  spent: number
  ended: boolean
  /** The policy's previous backoff, or the schedule's state. */
  previousMillis: number
  state: unknown
  /** When the first and the last retry were decided, for `Schedule.CurrentIterationMetadata`. */
  firstDecisionMillis: number
  lastDecisionMillis: number
}

/**
 * Runs `attempt(retries)` under a policy or a schedule: the first attempt runs
 * with nothing around it but a `catchAll`, and each retry is decided only once
 * an attempt has failed, so the success path costs next to nothing. A policy
 * decides through the one decision core (`decision.ts`); a schedule is stepped
 * directly, as `Effect.retry` steps it.
 */
export const runWithRetry = <A, E, R, R2 = never>(
  attempt: (retries: number) => Effect.Effect<A, E, R>,
  engine: Engine<E, R2>,
  options: LoopOptions<A, E>
): Effect.Effect<A, E, R | R2> => {
  const policy = RetryPolicy.isRetryPolicy(engine) ? engine : undefined
  const schedule = policy === undefined ? engine as Schedule.Schedule<unknown, E, R2> : undefined
  const plan = policy === undefined ? undefined : Decision.planOf(policy)
  const name = policy !== undefined ? policy.name : Option.fromNullable(options.name)
  const maxAttempts = plan === undefined ? Infinity : plan.maxAttempts
  const describe = options.describe
  const http = (error: E | undefined) => describe === undefined ? {} : { http: describe(error) }
  const isRetryable = options.isRetryable ?? (policy === undefined ? undefined : Retryable.isRetryable)
  const hintOf = options.hint ?? Retryable.retryAfter

  const decidePolicy = (run: Run<E>, now: number, plan: Decision.Plan): Effect.Effect<Step> => {
    const retryable = isRetryable!(run.error)
    let hintMillis: number | undefined
    if (retryable && plan.hints !== undefined) {
      const hint = hintOf(run.error, now)
      if (Option.isSome(hint)) hintMillis = Duration.toMillis(hint.value)
    }
    run.hintMillis = hintMillis
    const input: Decision.Input = {
      attempt: run.attempts,
      retryable,
      hintMillis,
      previousMillis: run.previousMillis,
      elapsedMillis: now - run.startMillis
    }
    const toStep = (decision: Decision.Decision): Step => {
      if (decision._tag === "Stop") return decision
      run.previousMillis = decision.backoffMillis
      return {
        _tag: "Retry",
        delayMillis: decision.delayMillis,
        delayFrom: decision.delayFrom,
        output: Duration.millis(decision.backoffMillis)
      }
    }
    // A step that draws nothing is decided at once, without an effect.
    return Decision.draws(plan, input) === 0
      ? Effect.succeed(toStep(Decision.decide(plan, input, [])))
      : Effect.map(Decision.step(plan, input), toStep)
  }

  const decideSchedule = (
    run: Run<E>,
    now: number,
    schedule: Schedule.Schedule<unknown, E, R2>
  ): Effect.Effect<Step, never, R2> => {
    if (isRetryable !== undefined && !isRetryable(run.error)) return Effect.succeed(notRetryable)
    return Effect.map(schedule.step(now, run.error, run.state), ([state, output, decision]): Step => {
      run.state = state
      if (ScheduleDecision.isDone(decision)) return scheduleDone
      return {
        _tag: "Retry",
        delayMillis: Math.max(0, Intervals.start(decision.intervals) - now),
        delayFrom: "schedule",
        output
      }
    })
  }

  const loop = (run: Run<E>): Effect.Effect<A, E, R | R2> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(
        plan !== undefined ? decidePolicy(run, now, plan) : decideSchedule(run, now, schedule!),
        (decided) => {
          const cooldown = run.cooldown
          // A cool-down that another call received is read before this failure's own hint is recorded.
          const step = cooldown === undefined ? decided : waitForCooldown(run, cooldown, decided, now)
          const next = () => {
            if (step._tag === "Stop") return giveUp(run, step.reason)
            return run.budget === undefined
              ? sleepThenRetry(run, step, now)
              : Effect.flatMap(run.budget.withdraw(kindOf(run.error)), (tokens) => {
                if (Option.isNone(tokens)) return giveUp(run, "budget")
                run.spent += tokens.value
                return sleepThenRetry(run, step, now)
              })
          }
          return cooldown === undefined || run.hintMillis === undefined
            ? next()
            : Effect.zipRight(recordHint(run, cooldown, run.hintMillis), Effect.suspend(next))
        }
      ))

  const cooldownKey = options.cooldown?.key ?? (() => "")

  /** A retry waits at least until the key's cool-down ends, unless that overshoots the total time budget. */
  const waitForCooldown = (run: Run<E>, cooldown: RetryCooldown.Service, step: Step, now: number): Step => {
    if (step._tag === "Stop") return step
    const remaining = cooldown.unsafeRemaining(cooldownKey(), now)
    if (remaining <= step.delayMillis) return step
    if (
      plan !== undefined && plan.maxElapsedMillis !== undefined &&
      Delay.overshoots(now - run.startMillis, remaining, plan.maxElapsedMillis)
    ) {
      return deadline
    }
    return { ...step, delayMillis: remaining, delayFrom: "cooldown" }
  }

  /** Records a failure's Retry-After hint (at most the policy's maximum) as the key's cool-down. */
  const recordHint = (run: Run<E>, cooldown: RetryCooldown.Service, hintMillis: number): Effect.Effect<void> => {
    run.hintMillis = undefined
    const millis = plan?.hints === undefined ? hintMillis : Math.min(hintMillis, plan.hints.maxMillis)
    return cooldown.record(cooldownKey(), Duration.millis(millis))
  }

  const sleepThenRetry = (run: Run<E>, next: Next, now: number): Effect.Effect<A, E, R | R2> => {
    const { attempts, error } = run
    const delayMillis = next.delayMillis
    const event = RetryEvent.Retrying({
      attempt: attempts,
      maxAttempts,
      delay: Duration.millis(delayMillis),
      delayFrom: next.delayFrom,
      error,
      name,
      ...http(error)
    })
    // What `Effect.retry`'s driver shows the retried effect.
    if (attempts === 1) run.firstDecisionMillis = now
    const metadata: Schedule.IterationMetadata = {
      start: run.firstDecisionMillis,
      now,
      input: error,
      output: next.output,
      elapsed: Duration.millis(now - run.firstDecisionMillis),
      elapsedSincePrevious: Duration.millis(attempts === 1 ? 0 : now - run.lastDecisionMillis),
      recurrence: attempts
    }
    run.lastDecisionMillis = now
    // Set in the fiber's context for the rest of the run, which restores the
    // context once when it ends (see `onFirstFailure`): providing it around each
    // attempt (as `Effect.retry` does) costs more than the rest of a retry.
    const withMetadata = Effect.zipRight(
      FiberRef.update(FiberRef.currentContext, (context) => Context.add(context, Schedule.CurrentIterationMetadata, metadata)),
      attempt(attempts)
    )
    const retried = Effect.matchEffect(
      withMetadata,
      {
        onFailure: (error) => {
          run.error = error
          run.attempts = attempts + 1
          return loop(run)
        },
        onSuccess: (value) =>
          Effect.as(
            closeWith(
              run,
              RetryEvent.Succeeded({ attempts: attempts + 1, name, ...http(undefined) }),
              run.budget === undefined ? undefined : run.budget.succeeded(run.spent)
            ),
            value
          )
      }
    )
    return Effect.zipRight(
      report(event, options.onEvent),
      delayMillis > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(delayMillis)), retried) : retried
    )
  }

  /**
   * Marks the run ended and reports its closing event. Once marked, the event
   * reaches every listener exactly once, but a slow listener holds the caller
   * only while nothing interrupts it (see `reportClosing`).
   */
  const closeWith = (
    run: Run<E>,
    event: RetryEvent.RetryEvent,
    before: Effect.Effect<void> | undefined
  ): Effect.Effect<void> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        run.ended = true
        const closing = reportClosing(event, options.onEvent, restore)
        return before === undefined ? closing : Effect.zipRight(before, closing)
      })
    )

  const recover = options.recover ?? Effect.fail
  const giveUp = (run: Run<E>, reason: RetryEvent.GiveUpReason): Effect.Effect<A, E> =>
    Effect.zipRight(closeWith(run, gaveUp(run, reason), undefined), recover(run.error, reason))

  const gaveUp = (run: Run<E>, reason: RetryEvent.GiveUpReason) =>
    RetryEvent.GaveUp({ attempts: run.attempts, error: run.error, reason, name, ...http(run.error) })

  // An interruption or a defect after retrying began still closes the call's
  // events, so that a status line showing "retrying" is cleared. The caller is
  // already ending: the listeners are not waited for.
  const reportAbnormalEnd = (run: Run<E>) => (exit: Exit.Exit<A, E>) =>
    Exit.isFailure(exit) && !run.ended
      ? reportClosing(gaveUp(run, Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"), options.onEvent)
      : Effect.void

  const onFirstFailure = (
    startMillis: number,
    budget: RetryBudget.Service | undefined,
    cooldown?: RetryCooldown.Service | undefined
  ) =>
  (error: E) => {
    const run: Run<E> = {
      startMillis,
      budget,
      cooldown,
      hintMillis: undefined,
      error,
      attempts: 1,
      spent: 0,
      ended: false,
      previousMillis: plan === undefined ? 0 : plan.baseMillis,
      state: schedule === undefined ? undefined : schedule.initial,
      firstDecisionMillis: 0,
      lastDecisionMillis: 0
    }
    return Effect.flatMap(FiberRef.get(FiberRef.currentContext), (context) =>
      Effect.onExit(loop(run), (exit) =>
        Effect.zipRight(FiberRef.set(FiberRef.currentContext, context), reportAbnormalEnd(run)(exit))))
  }

  // Built once: the handler for calls that have neither a budget nor a deadline.
  const onFirstFailureAlone = onFirstFailure(0, undefined)
  const onFirstFailureCauseAlone = onFailureCause(onFirstFailureAlone)
  const needsStart = plan !== undefined && plan.maxElapsedMillis !== undefined

  // The first attempt runs with one read of the fiber's context (for a budget
  // and, when one is needed, the clock) and a `catchAll`: nothing else is
  // built until an attempt fails. With a cool-down store and a key, the
  // store is read too, and a first attempt that opted in waits out a running
  // cool-down (announced as a `Retrying` event of attempt 0).
  const firstAttempt = (waited: boolean): Effect.Effect<A, E, R | R2> =>
    Effect.withFiberRuntime<A, E, R | R2>((fiber) => {
      const budget: RetryBudget.Service | undefined = options.budget ??
        fiber.currentContext.unsafeMap.get(RetryBudget.RetryBudget.key)
      const cooldown: RetryCooldown.Service | undefined = options.cooldown === undefined
        ? undefined
        : fiber.currentContext.unsafeMap.get(RetryCooldown.RetryCooldown.key)
      const alone = cooldown === undefined && !needsStart && !waited
      if (budget === undefined && alone) {
        return Effect.catchAllCause(attempt(0), onFirstFailureCauseAlone)
      }
      // The common case with a budget: the clock is read only when the budget
      // counts requests, and the handlers are made once per budget.
      if (alone) {
        const handlers = handlersFor(budget!)
        if (handlers.request !== undefined) handlers.request(clockOf(fiber).unsafeCurrentTimeMillis())
        return handlers.matched === undefined
          ? Effect.catchAllCause(attempt(0), handlers.onFailure)
          : Effect.matchCauseEffect(attempt(0), handlers.matched)
      }
      const now = clockOf(fiber).unsafeCurrentTimeMillis()
      if (cooldown !== undefined && options.cooldown!.firstAttempts) {
        const remaining = cooldown.unsafeRemaining(cooldownKey(), now)
        if (remaining > 0) return waitBeforeFirstAttempt(remaining)
      }
      budget?.unsafeRequest?.(now)
      const onFailure = onFirstFailure(now, budget, cooldown)
      const succeeded = budget?.unsafeSucceeded
      const first = succeeded === undefined ? attempt(0) : Effect.map(attempt(0), (value) => {
        succeeded(0)
        return value
      })
      // A call that waited reports how it ended, so that a status line showing the wait is cleared.
      return Effect.catchAll(waited ? Effect.tap(first, succeededAfterWait) : first, onFailure)
    })

  /**
   * The first attempt's handlers under a budget (without a deadline or
   * cool-down), kept for the last budget seen. `matched` (a success handler
   * too) is there only when the budget counts successes: otherwise a success
   * passes through a bare `catchAllCause`.
   */
  let lastBudget: RetryBudget.Service | undefined
  let lastHandlers: {
    readonly request: ((now: number) => void) | undefined
    readonly onFailure: (cause: Cause.Cause<E>) => Effect.Effect<A, E, R | R2>
    readonly matched: {
      readonly onFailure: (cause: Cause.Cause<E>) => Effect.Effect<A, E, R | R2>
      readonly onSuccess: (value: A) => Effect.Effect<A>
    } | undefined
  } | undefined
  const handlersFor = (budget: RetryBudget.Service) => {
    if (budget !== lastBudget || lastHandlers === undefined) {
      const succeeded = budget.unsafeSucceeded
      const onFailure = onFailureCause(onFirstFailure(0, budget, undefined))
      lastBudget = budget
      lastHandlers = {
        request: budget.unsafeRequest,
        onFailure,
        matched: succeeded === undefined ? undefined : {
          onFailure,
          onSuccess: (value: A) => {
            succeeded(0)
            return Effect.succeed(value)
          }
        }
      }
    }
    return lastHandlers
  }

  const succeededAfterWait = () =>
    Effect.uninterruptibleMask((restore) =>
      reportClosing(RetryEvent.Succeeded({ attempts: 1, name, ...http(undefined) }), options.onEvent, restore)
    )

  const waitBeforeFirstAttempt = (remaining: number): Effect.Effect<A, E, R | R2> => {
    const event = RetryEvent.Retrying({
      attempt: 0,
      maxAttempts,
      delay: Duration.millis(remaining),
      delayFrom: "cooldown",
      error: undefined,
      name,
      ...http(undefined)
    })
    const wait = Effect.onInterrupt(
      Effect.zipRight(report(event, options.onEvent), Effect.sleep(Duration.millis(remaining))),
      () =>
        reportClosing(
          RetryEvent.GaveUp({ attempts: 0, error: undefined, reason: "interrupted", name, ...http(undefined) }),
          options.onEvent
        )
    )
    return Effect.zipRight(wait, Effect.suspend(() => firstAttempt(true)))
  }

  return firstAttempt(false)
}

/**
 * A cause handler that does what `Effect.catchAll(self, onFailure)` does with
 * the cause, built once: around the first attempt it is used as a
 * `catchAllCause` (or the failure half of a `matchCauseEffect`), which a
 * success passes through without the `Effect.succeed` and the per-call
 * closure that `catchAll` and `matchEffect` add.
 */
const onFailureCause = <E, A, E2, R>(onFailure: (error: E) => Effect.Effect<A, E2, R>) =>
(cause: Cause.Cause<E>): Effect.Effect<A, E2, R> => Effect.catchAll(Effect.failCause(cause), onFailure)

const notRetryable: Step = { _tag: "Stop", reason: "not-retryable" }
const deadline: Step = { _tag: "Stop", reason: "deadline" }
const scheduleDone: Step = { _tag: "Stop", reason: "schedule-done" }

// A timeout, bare or as the cause of another error (HTTP's attempt timeout is a RequestError whose cause is one).
const kindOf = (error: unknown): RetryBudget.RetryKind =>
  Cause.isTimeoutException(error) ||
    (typeof error === "object" && error !== null && Cause.isTimeoutException((error as { cause?: unknown }).cause))
    ? "timeout"
    : "error"
