import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
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
import * as Validate from "./validate.js"

/** What a call is retried under: a policy, or any Schedule whose input is the failure. */
export type Engine<E, R> = RetryPolicy.RetryPolicy | Schedule.Schedule<unknown, E, R>

/** What a retry loop needs besides the policy or schedule: the same for every call it runs. */
export interface LoopOptions<A, E> {
  /** Decides which failures are retried. Default: `Retryable.isRetryable` for a policy, every failure for a schedule. */
  readonly isRetryable?: ((error: E) => boolean) | undefined
  readonly onEvent?: Listener | undefined
  /** Reads a failure's Retry-After hint; `Retryable.retryAfter` by default. */
  readonly hint?: ((error: E, now: number) => Option.Option<Duration.Duration>) | undefined
  /** A budget to draw on instead of the `RetryBudget` in the context. */
  readonly budget?: RetryBudget.Service | undefined
  /** What the call ends with when it gives up; by default it fails with the last error. */
  readonly recover?: ((error: E, reason: RetryEvent.GiveUpReason) => Effect.Effect<A, E>) | undefined
  /** The name events carry when the engine is a schedule (a policy carries its own). */
  readonly name?: string | undefined
  /**
   * Used when a `RetryCooldown` is in the context: the calls' cool-down key
   * (read only when needed; a call may bring its own) and whether a first
   * attempt waits for a running cool-down too.
   */
  readonly cooldown?: { readonly key?: (() => string) | undefined; readonly firstAttempts: boolean } | undefined
}

/**
 * What one call brings to a runner. The runner calls these as methods, so a
 * call may be a class instance whose methods live on its prototype.
 */
export interface Call<A, E, R> {
  /** Attempt number `retries` (0 for the first). */
  attempt(retries: number): Effect.Effect<A, E, R>
  /** Adds request details to each event (HTTP). */
  describe?(error: E | undefined): RetryEvent.HttpInfo
  /** The error as events carry it, when it must print differently from the error itself (HTTP). */
  shown?(error: E): unknown
  /** This call's cool-down key, instead of the runner's. */
  cooldownKey?(): string
  /** Runs once a retry is decided and announced, just before its backoff sleep. */
  beforeRetry?(): Effect.Effect<void>
  /**
   * Runs when the call is interrupted or dies after retrying began, on the
   * fiber that delivers its closing event: the caller is not held for it.
   */
  onAbandoned?(): Effect.Effect<void>
}

/**
 * Retries calls under one policy or schedule and one set of options. Built
 * once (per `Retry.retry` with options, per policy or schedule without, per
 * HTTP client); a call then costs its `Call`, a `CallRunner` and the effect
 * that runs its first attempt, and nothing more until an attempt fails.
 */
export interface Runner<A, E, R2> {
  run<R>(call: Call<A, E, R>): Effect.Effect<A, E, R | R2>
  /**
   * `run` for a caller that already holds the running fiber (inside its own
   * `withFiberRuntime`): the same call, one step fewer.
   */
  runIn<R>(fiber: Fiber.RuntimeFiber<any, any>, call: Call<A, E, R>): Effect.Effect<A, E, R | R2>
}

/** The options and the engine, resolved once. */
interface Resolved<A, E, R2> {
  readonly options: LoopOptions<A, E>
  readonly plan: Decision.Plan | undefined
  readonly schedule: Schedule.Schedule<unknown, E, R2> | undefined
  readonly name: Option.Option<string>
  readonly maxAttempts: number
  readonly isRetryable: ((error: E) => boolean) | undefined
  readonly hintOf: (error: E, now: number) => Option.Option<Duration.Duration>
  readonly recover: (error: E, reason: RetryEvent.GiveUpReason) => Effect.Effect<A, E>
  /** Whether a call reads the clock before its first attempt (the policy has a total time budget). */
  readonly needsStart: boolean
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
  /** Attempts that have failed so far. */
  attempts: number
  /** Attempts begun so far: one more than `attempts` while an attempt runs. */
  begun: number
  /** Budget tokens this call's retries withdrew. */
  spent: number
  /** What the retry being set up withdrew. */
  withdrawn: number
  ended: boolean
  /** The policy's previous backoff, or the schedule's state. */
  previousMillis: number
  state: unknown
  /** When the first and the last retry were decided, for `Schedule.CurrentIterationMetadata`. */
  firstDecisionMillis: number
  lastDecisionMillis: number
  /** The metadata of the last retry, which `orElse` reads, as under `Effect.retryOrElse`. */
  metadata: Schedule.IterationMetadata | undefined
  /** The fiber's context when retrying began, restored when the run ends. */
  readonly outerContext: Context.Context<never>
  /**
   * The context a schedule steps in: the caller's, which for a call nested in
   * another loop is the one around it (with that loop's metadata), not the
   * fresh metadata the nested call's attempts see.
   */
  readonly scheduleContext: Context.Context<never>
  readonly nested: boolean
}

/**
 * Builds a runner: calls run under a policy or a schedule, in the common case
 * the first attempt with nothing around it but a `catchAllCause` (see
 * `CallRunner.first`), and each retry decided only once an attempt has
 * failed, so the success path costs next to nothing. A policy
 * decides through the one decision core (`decision.ts`); a schedule is stepped
 * directly, as `Effect.retry` steps it.
 */
export const makeRunner = <A, E, R2 = never>(engine: Engine<E, R2>, options: LoopOptions<A, E>): Runner<A, E, R2> => {
  const policy = RetryPolicy.isRetryPolicy(engine) ? engine : undefined
  if (policy === undefined && !Schedule.isSchedule(engine)) {
    throw Validate.invalid("policy", engine, "a RetryPolicy or a Schedule whose input is the failure")
  }
  const plan = policy === undefined ? undefined : Decision.planOf(policy)
  const resolved: Resolved<A, E, R2> = {
    options,
    plan,
    schedule: policy === undefined ? engine as Schedule.Schedule<unknown, E, R2> : undefined,
    name: policy !== undefined ? policy.name : Option.fromNullable(options.name),
    maxAttempts: plan === undefined ? Infinity : plan.maxAttempts,
    isRetryable: options.isRetryable ?? (policy === undefined ? undefined : Retryable.isRetryable),
    hintOf: options.hint ?? Retryable.retryAfter,
    recover: options.recover ?? Effect.fail,
    needsStart: plan !== undefined && plan.maxElapsedMillis !== undefined
  }
  return new RunnerImpl(resolved)
}

class RunnerImpl<A, E, R2> implements Runner<A, E, R2> {
  constructor(readonly resolved: Resolved<A, E, R2>) {}
  run<R>(call: Call<A, E, R>): Effect.Effect<A, E, R | R2> {
    return new CallRunner<A, E, R, R2>(this.resolved, call).first(undefined)
  }
  runIn<R>(fiber: Fiber.RuntimeFiber<any, any>, call: Call<A, E, R>): Effect.Effect<A, E, R | R2> {
    return new CallRunner<A, E, R, R2>(this.resolved, call).firstWith(fiber, undefined)
  }
}

/**
 * One call under a runner. Its methods are shared on the prototype; the
 * handlers of its first attempt are made when it first runs, and kept for
 * its further runs (a `Retry.retry` effect may run many times).
 */
class CallRunner<A, E, R, R2> {
  // The last first attempt built (without a deadline or a cool-down) and what
  // it was built from: reused while those stay the same.
  private keptAttempt: Effect.Effect<A, E, R> | undefined
  private keptBudget: RetryBudget.Service | undefined
  private keptFirst: Effect.Effect<A, E, R | R2> | undefined
  private readonly listener: Listener | undefined

  constructor(readonly resolved: Resolved<A, E, R2>, readonly call: Call<A, E, R>) {
    this.listener = resolved.options.onEvent
  }

  private http(error: E | undefined): { readonly http?: RetryEvent.HttpInfo } {
    return this.call.describe === undefined ? {} : { http: this.call.describe(error) }
  }

  private shown(error: E | undefined): unknown {
    return error === undefined || this.call.shown === undefined ? error : this.call.shown(error)
  }

  private cooldownKey(): string {
    if (this.call.cooldownKey !== undefined) return this.call.cooldownKey()
    const key = this.resolved.options.cooldown?.key
    return key === undefined ? "" : key()
  }

  // The first attempt runs with a few lookups in the fiber's context (a
  // budget, a cool-down store, an outer loop's metadata), a read of the clock
  // when one is needed, and a `catchAllCause`: nothing else is built until an
  // attempt fails. With a cool-down store and a key, a first attempt that
  // opted in waits out a running cool-down (announced as a `Retrying` event
  // of attempt 0) when the wait fits in the policy's time budget;
  // `waitedSince` is when a call that waited began.
  first(waitedSince: number | undefined): Effect.Effect<A, E, R | R2> {
    return Effect.withFiberRuntime<A, E, R | R2>((fiber) => this.firstWith(fiber, waitedSince))
  }

  firstWith(fiber: Fiber.RuntimeFiber<any, any>, waitedSince: number | undefined): Effect.Effect<A, E, R | R2> {
    const { options, needsStart } = this.resolved
    // Read once: each read of the fiber's context is a look-up of its own.
    const context = fiber.currentContext
    const services = context.unsafeMap
    const budget: RetryBudget.Service | undefined = options.budget ?? services.get(RetryBudget.RetryBudget.key)
    const cooldown: RetryCooldown.Service | undefined = options.cooldown === undefined
      ? undefined
      : services.get(RetryCooldown.RetryCooldown.key)
    // Inside another retry or repeat loop, whose metadata the call must not see.
    const nested = services.has(Schedule.CurrentIterationMetadata.key)
    // The common case: no deadline, no cool-down, not nested. The clock is
    // read only when a budget counts requests, and a call run again (the same
    // effect, under the same budget) reuses the effect built for its last run.
    if (cooldown === undefined && !needsStart && waitedSince === undefined && !nested) {
      if (budget?.unsafeRequest !== undefined) budget.unsafeRequest(clockOf(fiber).unsafeCurrentTimeMillis())
      const attempt = this.call.attempt(0)
      return attempt === this.keptAttempt && budget === this.keptBudget
        ? this.keptFirst!
        : this.keepFirst(attempt, budget)
    }
    // Nested, the whole run starts from recurrence 0, as under `Effect.retry`,
    // which provides its own metadata from the first attempt on: neither that
    // attempt nor a give-up right after it sees the outer loop's.
    return nested
      ? Effect.provideService(
        this.firstRun(fiber, waitedSince, budget, cooldown, context),
        Schedule.CurrentIterationMetadata,
        noIterationYet
      )
      : this.firstRun(fiber, waitedSince, budget, cooldown, undefined)
  }

  /** A first attempt with a deadline, a cool-down store or an outer loop. */
  private firstRun(
    fiber: Fiber.RuntimeFiber<any, any>,
    waitedSince: number | undefined,
    budget: RetryBudget.Service | undefined,
    cooldown: RetryCooldown.Service | undefined,
    loopContext: Context.Context<never> | undefined
  ): Effect.Effect<A, E, R | R2> {
    const options = this.resolved.options
    const now = clockOf(fiber).unsafeCurrentTimeMillis()
    // A wait before the first attempt counts against the time budget.
    const startMillis = waitedSince ?? now
    if (cooldown !== undefined && options.cooldown!.firstAttempts) {
      const remaining = cooldown.unsafeRemaining(this.cooldownKey(), now)
      if (remaining > 0 && this.waitFits(now - startMillis, remaining)) {
        return this.waitBeforeFirstAttempt(remaining, startMillis)
      }
    }
    budget?.unsafeRequest?.(now)
    const attempt = this.call.attempt(0)
    const first = budget?.unsafeSucceeded === undefined ? attempt : Effect.map(attempt, (value) => {
      budget.unsafeSucceeded!(0)
      return value
    })
    return Effect.catchAll(
      waitedSince === undefined ? first : this.closedAfterWait(first),
      (error) => this.afterFirstFailure(error, startMillis, budget, cooldown, loopContext)
    )
  }

  /**
   * Whether a call may wait `remaining` ms for a cool-down: only when the wait
   * ends within the policy's time budget. A retry that may not gives up with
   * "deadline"; a first attempt is made at once, so that the call gets an
   * answer within its budget instead of none.
   */
  private waitFits(elapsedMillis: number, remaining: number): boolean {
    const maxElapsed = this.resolved.plan?.maxElapsedMillis
    return maxElapsed === undefined || !Delay.overshoots(elapsedMillis, remaining, maxElapsed)
  }

  /**
   * A first attempt made after waiting out a cool-down reports how it ended,
   * so that a status line showing the wait is cleared: a success, or an
   * interruption or a defect. A failure goes on to the retry loop, which
   * reports its own end.
   */
  private closedAfterWait(first: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(first), {
        onFailure: (cause) =>
          Cause.isFailure(cause)
            ? Effect.failCause(cause)
            : Effect.zipRight(this.closeAbnormally(cause, 1, undefined, restore), Effect.failCause(cause)),
        onSuccess: (value) => Effect.as(this.succeededAfterWait(), value)
      })
    )
  }

  private keepFirst(
    attempt: Effect.Effect<A, E, R>,
    budget: RetryBudget.Service | undefined
  ): Effect.Effect<A, E, R | R2> {
    const onFailure = this.onFirstFailureCause(0, budget)
    const effect = budget?.unsafeSucceeded === undefined
      ? Effect.catchAllCause(attempt, onFailure)
      : Effect.matchCauseEffect(attempt, {
        onFailure,
        onSuccess: (value: A) => {
          budget.unsafeSucceeded!(0)
          return Effect.succeed(value)
        }
      })
    this.keptAttempt = attempt
    this.keptBudget = budget
    return this.keptFirst = effect
  }

  /**
   * A cause handler that does what `Effect.catchAll(self, onFailure)` does with
   * the cause, built once: around the first attempt it is used as a
   * `catchAllCause` (or the failure half of a `matchCauseEffect`), which a
   * success passes through without the `Effect.succeed` and the per-call
   * closure that `catchAll` and `matchEffect` add.
   */
  private onFirstFailureCause(startMillis: number, budget: RetryBudget.Service | undefined) {
    return (cause: Cause.Cause<E>): Effect.Effect<A, E, R | R2> =>
      Effect.catchAll(
        Effect.failCause(cause),
        (error) => this.afterFirstFailure(error, startMillis, budget, undefined, undefined)
      )
  }

  private afterFirstFailure(
    error: E,
    startMillis: number,
    budget: RetryBudget.Service | undefined,
    cooldown: RetryCooldown.Service | undefined,
    loopContext: Context.Context<never> | undefined
  ): Effect.Effect<A, E, R | R2> {
    const { plan, schedule } = this.resolved
    return Effect.flatMap(FiberRef.get(FiberRef.currentContext), (outerContext) => {
      const run: Run<E> = {
        startMillis,
        budget,
        cooldown,
        hintMillis: undefined,
        error,
        attempts: 1,
        begun: 1,
        spent: 0,
        withdrawn: 0,
        ended: false,
        previousMillis: plan === undefined ? 0 : plan.baseMillis,
        state: schedule === undefined ? undefined : schedule.initial,
        firstDecisionMillis: 0,
        lastDecisionMillis: 0,
        metadata: undefined,
        outerContext,
        scheduleContext: loopContext ?? outerContext,
        nested: loopContext !== undefined
      }
      return Effect.uninterruptibleMask((restore) =>
        Effect.onExit(restore(this.loop(run)), (exit) =>
          Effect.zipRight(FiberRef.set(FiberRef.currentContext, outerContext), this.reportAbnormalEnd(run, exit, restore)))
      )
    })
  }

  private loop(run: Run<E>): Effect.Effect<A, E, R | R2> {
    const { plan, schedule } = this.resolved
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(
        plan !== undefined ? this.decidePolicy(run, now, plan) : this.decideSchedule(run, now, schedule!),
        (decided) => {
          const cooldown = run.cooldown
          // A cool-down that another call received is read before this failure's own hint is recorded.
          const step = cooldown === undefined ? decided : this.waitForCooldown(run, cooldown, decided, now)
          const next = () => {
            if (step._tag === "Stop") return this.giveUp(run, step.reason)
            return run.budget === undefined
              ? this.sleepThenRetry(run, step, now)
              : Effect.flatMap(run.budget.withdraw(kindOf(run.error)), (tokens) => {
                if (Option.isNone(tokens)) return this.giveUp(run, "budget")
                run.spent += tokens.value
                run.withdrawn = tokens.value
                return this.sleepThenRetry(run, step, now)
              })
          }
          return cooldown === undefined || run.hintMillis === undefined
            ? next()
            : Effect.zipRight(this.recordHint(run, cooldown, run.hintMillis), Effect.suspend(next))
        }
      ))
  }

  private decidePolicy(run: Run<E>, now: number, plan: Decision.Plan): Effect.Effect<Step> {
    const { hintOf, isRetryable } = this.resolved
    const retryable = isRetryable!(run.error)
    let hintMillis: number | undefined
    if (retryable && plan.hints !== undefined) {
      const hint = hintOf(run.error, now)
      if (Option.isSome(hint)) hintMillis = Duration.toMillis(hint.value)
    }
    // Recorded as the key's cool-down unless the policy disregards it.
    run.hintMillis = hintMillis !== undefined && plan.hints!.whenAboveMax === "ignore" && hintMillis > plan.hints!.maxMillis
      ? undefined
      : hintMillis
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

  private decideSchedule(
    run: Run<E>,
    now: number,
    schedule: Schedule.Schedule<unknown, E, R2>
  ): Effect.Effect<Step, never, R2> {
    const isRetryable = this.resolved.isRetryable
    if (isRetryable !== undefined && !isRetryable(run.error)) return Effect.succeed(notRetryable)
    // The schedule steps in the caller's context, as under `Effect.retry`:
    // the metadata set for the retried effect (after the first retry) is not its.
    const step = run.attempts === 1 && !run.nested
      ? schedule.step(now, run.error, run.state)
      : Effect.zipRight(FiberRef.set(FiberRef.currentContext, run.scheduleContext), schedule.step(now, run.error, run.state))
    return Effect.map(step, ([state, output, decision]): Step => {
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

  /** A retry waits at least until the key's cool-down ends, unless that overshoots the total time budget. */
  private waitForCooldown(run: Run<E>, cooldown: RetryCooldown.Service, step: Step, now: number): Step {
    if (step._tag === "Stop") return step
    const remaining = cooldown.unsafeRemaining(this.cooldownKey(), now)
    if (remaining <= step.delayMillis) return step
    if (!this.waitFits(now - run.startMillis, remaining)) return deadline
    return { ...step, delayMillis: remaining, delayFrom: "cooldown" }
  }

  /** Records a failure's Retry-After hint (at most the policy's maximum) as the key's cool-down. */
  private recordHint(run: Run<E>, cooldown: RetryCooldown.Service, hintMillis: number): Effect.Effect<void> {
    run.hintMillis = undefined
    const maxMillis = this.resolved.plan?.hints?.maxMillis
    const millis = maxMillis === undefined ? hintMillis : Math.min(hintMillis, maxMillis)
    return cooldown.record(this.cooldownKey(), Duration.millis(millis))
  }

  private sleepThenRetry(run: Run<E>, next: Next, now: number): Effect.Effect<A, E, R | R2> {
    const { maxAttempts, name } = this.resolved
    const { attempts, error } = run
    const delayMillis = next.delayMillis
    const event = RetryEvent.Retrying({
      attempt: attempts,
      maxAttempts,
      delay: Duration.millis(delayMillis),
      delayFrom: next.delayFrom,
      error: this.shown(error),
      name,
      ...this.http(error)
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
    run.metadata = metadata
    // Set in the fiber's context for the rest of the run, which restores the
    // context once when it ends (see `afterFirstFailure`): providing it around
    // each attempt (as `Effect.retry` does) costs more than the rest of a retry.
    const withMetadata = Effect.zipRight(
      FiberRef.update(FiberRef.currentContext, (context) => {
        // The attempt begins now: an interruption or a defect from here on
        // counts it, and what was withdrawn for it is spent.
        run.begun = attempts + 1
        run.withdrawn = 0
        return Context.add(context, Schedule.CurrentIterationMetadata, metadata)
      }),
      this.call.attempt(attempts)
    )
    const retried = Effect.matchEffect(
      withMetadata,
      {
        onFailure: (error) => {
          run.error = error
          run.attempts = attempts + 1
          return this.loop(run)
        },
        onSuccess: (value) =>
          Effect.as(
            this.closeWith(
              run,
              RetryEvent.Succeeded({ attempts: attempts + 1, name, ...this.http(undefined) }),
              run.budget === undefined ? undefined : run.budget.succeeded(run.spent)
            ),
            value
          )
      }
    )
    // The listeners' time is part of the delay: the retry comes when it was
    // decided to, or when they return, and never past the total time budget.
    const retryAt = now + delayMillis
    const maxElapsed = this.resolved.plan?.maxElapsedMillis
    const afterListeners = Effect.flatMap(Clock.currentTimeMillis, (after) => {
      const sleepMillis = Math.max(0, retryAt - after)
      if (maxElapsed !== undefined && Delay.overshoots(after - run.startMillis, sleepMillis, maxElapsed)) {
        return this.giveUpUnmade(run)
      }
      const sleepThenAttempt = sleepMillis > 0
        ? Effect.zipRight(Effect.sleep(Duration.millis(sleepMillis)), retried)
        : retried
      return this.call.beforeRetry === undefined
        ? sleepThenAttempt
        : Effect.zipRight(this.call.beforeRetry(), sleepThenAttempt)
    })
    return Effect.zipRight(report(event, this.listener), afterListeners)
  }

  /**
   * Marks the run ended and reports its closing event. Once marked, the event
   * reaches every listener exactly once, but a slow listener holds the caller
   * only while nothing interrupts it (see `reportClosing`).
   */
  private closeWith(
    run: Run<E>,
    event: RetryEvent.RetryEvent,
    before: Effect.Effect<void> | undefined
  ): Effect.Effect<void> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        run.ended = true
        const closing = reportClosing(event, this.listener, restore)
        return before === undefined ? closing : Effect.zipRight(before, closing)
      })
    )
  }

  // Past the deadline once the listeners of its `Retrying` event returned: the
  // retry is not made.
  private giveUpUnmade(run: Run<E>): Effect.Effect<A, E> {
    const refund = this.refundUnmade(run)
    const gaveUp = this.giveUp(run, "deadline")
    return refund === undefined ? gaveUp : Effect.zipRight(refund, gaveUp)
  }

  /**
   * A retry that was decided and withdrawn for, but whose attempt never began
   * (the deadline came first, or the call was interrupted or died in its
   * backoff): the budget gets back what the retry withdrew.
   */
  private refundUnmade(run: Run<E>): Effect.Effect<void> | undefined {
    const withdrawn = run.withdrawn
    if (run.budget === undefined || withdrawn === 0) return undefined
    run.withdrawn = 0
    run.spent -= withdrawn
    return run.budget.succeeded(withdrawn)
  }

  private giveUp(run: Run<E>, reason: RetryEvent.GiveUpReason): Effect.Effect<A, E> {
    const recover = this.resolved.recover
    const closed = this.closeWith(run, this.gaveUp(run, reason), undefined)
    // An `orElse` reads the last retry's metadata (none before the first), as
    // under `Effect.retryOrElse`, whatever context the schedule stepped in.
    const recovered = this.resolved.options.recover === undefined
      ? recover(run.error, reason)
      : Effect.provideService(recover(run.error, reason), Schedule.CurrentIterationMetadata, run.metadata ?? noIterationYet)
    return Effect.zipRight(closed, recovered)
  }

  private gaveUp(run: Run<E>, reason: RetryEvent.GiveUpReason) {
    return this.gaveUpAfter(run.attempts, run.error, reason)
  }

  private gaveUpAfter(attempts: number, error: E | undefined, reason: RetryEvent.GiveUpReason) {
    return RetryEvent.GaveUp({ attempts, error: this.shown(error), reason, name: this.resolved.name, ...this.http(error) })
  }

  // An interruption or a defect after retrying began still closes the call's
  // events, so that a status line showing "retrying" is cleared, and counts
  // the attempt it cut short. An interrupted caller is released at once; a
  // dying one returns after its listeners, as a call that gives up does.
  private reportAbnormalEnd(
    run: Run<E>,
    exit: Exit.Exit<A, E>,
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>
  ): Effect.Effect<void> {
    if (Exit.isSuccess(exit) || run.ended) return Effect.void
    const closed = this.closeAbnormally(exit.cause, run.begun, run.error, restore)
    const refund = this.refundUnmade(run)
    return refund === undefined ? closed : Effect.zipRight(refund, closed)
  }

  /**
   * Closes the events of a call that was interrupted or died: the reason is
   * read from the cause; an interrupted caller is not held for the listeners.
   */
  private closeAbnormally(
    cause: Cause.Cause<unknown>,
    attempts: number,
    error: E | undefined,
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>
  ): Effect.Effect<void> {
    const interrupted = Cause.isInterruptedOnly(cause)
    const event = this.gaveUpAfter(attempts, error, interrupted ? "interrupted" : "defect")
    return reportClosing(event, this.abandonedListener(), interrupted ? undefined : restore)
  }

  /** The listener of an interrupted or failed call's closing event, which runs the call's own clean-up first. */
  private abandonedListener(): Listener | undefined {
    const call = this.call
    if (call.onAbandoned === undefined) return this.listener
    const listener = this.listener
    return (event) => Effect.zipRight(call.onAbandoned!(), listener === undefined ? Effect.void : listener(event))
  }

  private succeededAfterWait(): Effect.Effect<void> {
    return Effect.uninterruptibleMask((restore) =>
      reportClosing(
        RetryEvent.Succeeded({ attempts: 1, name: this.resolved.name, ...this.http(undefined) }),
        this.listener,
        restore
      )
    )
  }

  private waitBeforeFirstAttempt(remaining: number, startMillis: number): Effect.Effect<A, E, R | R2> {
    const { maxAttempts, name } = this.resolved
    const event = RetryEvent.Retrying({
      attempt: 0,
      maxAttempts,
      delay: Duration.millis(remaining),
      delayFrom: "cooldown",
      error: undefined,
      name,
      ...this.http(undefined)
    })
    const wait = Effect.onInterrupt(
      Effect.zipRight(report(event, this.listener), Effect.sleep(Duration.millis(remaining))),
      () => reportClosing(this.gaveUpAfter(0, undefined, "interrupted"), this.listener)
    )
    return Effect.zipRight(wait, Effect.suspend(() => this.first(startMillis)))
  }
}

const noIterationYet = Schedule.CurrentIterationMetadata.defaultValue()

const notRetryable: Step = { _tag: "Stop", reason: "not-retryable" }
const deadline: Step = { _tag: "Stop", reason: "deadline" }
const scheduleDone: Step = { _tag: "Stop", reason: "schedule-done" }

// A timeout, bare or as the cause of another error (HTTP's attempt timeout is a RequestError whose cause is one).
const kindOf = (error: unknown): RetryBudget.RetryKind =>
  Cause.isTimeoutException(error) ||
    (typeof error === "object" && error !== null && Cause.isTimeoutException((error as { cause?: unknown }).cause))
    ? "timeout"
    : "error"
