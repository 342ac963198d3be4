/**
 * The simulator behind `npm run simulate` (private: not exported from the
 * package). Two scenarios:
 *
 * - Contention, after the AWS Architecture Blog study "Exponential Backoff And
 *   Jitter" (2015, awslabs/aws-arch-backoff-simulator): clients each write one
 *   record once with optimistic concurrency, and retry until the write goes
 *   through, under each backoff strategy. Every message between a client and
 *   the store takes one network latency: the read request travels to the store
 *   (which notes the version), the version travels back, the write travels to
 *   the store (which refuses it if another write landed since the read), the
 *   outcome travels back. So the version a client writes against is two
 *   latencies old when its write lands, and a failed client backs off before
 *   sending its next read. Calls are write attempts; the completion time is
 *   when the last client learns that its write succeeded.
 * - Amplification: callers send one call a second each to a backend in full
 *   outage, under `RetryPolicy.default` with `Retry.retry`, with no budget, a
 *   token bucket and a ratio budget; the result is the requests the backend
 *   received per call made.
 *
 * Every wait is decided by the library's decision core (`RetryDecision`) and
 * the budgets are `RetryBudget`'s. With a policy
 * of the user's (`policy`), the amplification and fleet callers retry under
 * it and the contention table gets a row "policy" with its backoff. Time is virtual and randomness is seeded (`Random.make`), so
 * a run gives the same numbers every time. By default time is kept by a
 * virtual `Clock` that wakes sleeping fibers in time order once every other
 * fiber of the simulation is asleep or done: it gives the same numbers as
 * Effect's `TestClock` (option `clock: "testClock"`), which takes about 4 ms of
 * real time per sleep because it polls the fibers with timers between steps,
 * too slow for the tens of thousands of sleeps of a full run.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Retry, RetryBudget, RetryDecision, Retryable, RetryPolicy } from "effect-retry"
import { renderTable } from "./table.js"

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/** A backoff strategy of the contention scenario. */
export type Strategy =
  | "none"
  | "exponential"
  | "equal"
  | "full"
  | "decorrelated"
  | "full+tokenBucket"
  | "full+ratio"
  | "policy"

/** Every strategy, in the order of the tables. */
export const allStrategies: ReadonlyArray<Strategy> = [
  "none",
  "exponential",
  "equal",
  "full",
  "decorrelated",
  "full+tokenBucket",
  "full+ratio"
]

/** The strategies of a run with a policy of the user's: every strategy and the policy's own backoff. */
export const strategiesWithPolicy: ReadonlyArray<Strategy> = [...allStrategies, "policy"]

/** The strategies the study measured. */
export const studyStrategies: ReadonlyArray<Strategy> = ["none", "exponential", "equal", "full", "decorrelated"]

/** The budget of an amplification run: none, `RetryBudget.makeTokenBucket()` or `RetryBudget.makeRatio()`. */
export type BudgetKind = "none" | "tokenBucket" | "ratio"

/** How virtual time is kept: the simulator's own virtual clock, or Effect's `TestClock` (same numbers, much slower). */
export type ClockKind = "virtual" | "testClock"

/** How a one-way network latency is drawn. */
export type LatencyShape = "uniform" | "normal"

/** Every option of the simulator; `defaultOptions` holds the defaults. */
export interface SimulationOptions {
  /** The seed of every random draw: the same seed gives the same numbers. */
  readonly seed: number
  readonly clock: ClockKind
  /** Contention: clients that each write the record once. */
  readonly clients: number
  /** Contention: runs per strategy, averaged (the study averaged 100). */
  readonly runs: number
  readonly strategies: ReadonlyArray<Strategy>
  readonly baseMillis: number
  readonly capMillis: number
  /** One-way network latency: the mean. */
  readonly latencyMillis: number
  /** Half the width of a uniform latency, or the standard deviation of a normal one. */
  readonly latencySpreadMillis: number
  /** `normal`: |N(mean, spread)|, as the study's simulator drew it (the default); `uniform`: mean ± spread. */
  readonly latencyShape: LatencyShape
  /** Contention: virtual time after which a client still failing stops (and counts as unfinished). */
  readonly horizonMillis: number
  /** Amplification: callers sharing one budget for the backend. */
  readonly callers: number
  /** Amplification: how long the callers send calls; the backend is down throughout. */
  readonly outageMillis: number
  /** Amplification: each caller starts a call this often, from a random phase. */
  readonly callEveryMillis: number
  readonly budgets: ReadonlyArray<BudgetKind>
  /** Fleet: the callers are spread over this many processes, each with its own budget or all sharing one. */
  readonly processes: number
  /**
   * The policy of the amplification and fleet callers (`Retry.retry`), and the
   * backoff of the contention strategy "policy": its jitter, base delay,
   * factor and cap, and its attempts (a client that runs out gives up).
   */
  readonly policy: RetryPolicy.RetryPolicy
}

/** The defaults: the study's set-up at 100 clients (its latency model included), and 200 callers for 30 s. */
export const defaultOptions: SimulationOptions = {
  seed: 2015,
  clock: "virtual",
  clients: 100,
  runs: 10,
  strategies: allStrategies,
  baseMillis: 5,
  capMillis: 2000,
  latencyMillis: 10,
  latencySpreadMillis: 2,
  latencyShape: "normal",
  horizonMillis: 3_600_000,
  callers: 200,
  outageMillis: 30_000,
  callEveryMillis: 1000,
  budgets: ["none", "tokenBucket", "ratio"],
  processes: 8,
  policy: RetryPolicy.default
}

/** The options with the defaults filled in. */
export const resolveOptions = (options: Partial<SimulationOptions> = {}): SimulationOptions => ({
  ...defaultOptions,
  ...options
})

/** Calls and completion time as the study published them (100 clients, mean of 100 runs). */
export interface Figures {
  readonly calls: number
  readonly completionMs: number
}

/** The study's figures at 100 clients. */
export const published: Readonly<Partial<Record<Strategy, Figures>>> = {
  none: { calls: 2425, completionMs: 2000 },
  exponential: { calls: 1850, completionMs: 63_300 },
  equal: { calls: 813, completionMs: 6600 },
  full: { calls: 796, completionMs: 4900 },
  decorrelated: { calls: 998, completionMs: 4700 }
}

/** How far our call counts may be from the published ones, in percent. */
export const tolerancePercent = 3

// ---------------------------------------------------------------------------
// Virtual time
// ---------------------------------------------------------------------------

interface Sleeper {
  readonly at: number
  readonly order: number
  readonly wake: () => void
  cancelled: boolean
}

const wakesFirst = (a: Sleeper, b: Sleeper): boolean => a.at < b.at || (a.at === b.at && a.order < b.order)

/** A binary min-heap of sleepers by wake-up time, then by the order they fell asleep. */
class SleeperHeap {
  private readonly items: Array<Sleeper> = []

  push(sleeper: Sleeper): void {
    const items = this.items
    items.push(sleeper)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!wakesFirst(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): Sleeper | undefined {
    const items = this.items
    const first = items[0]
    const last = items.pop()
    if (first === undefined || last === undefined || items.length === 0) return first
    items[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let least = i
      if (left < items.length && wakesFirst(items[left]!, items[least]!)) least = left
      if (right < items.length && wakesFirst(items[right]!, items[least]!)) least = right
      if (least === i) return first
      ;[items[i], items[least]] = [items[least]!, items[i]!]
      i = least
    }
  }
}

/**
 * An Effect `Clock` whose time moves only when a fiber sleeps: `drive` wakes
 * the sleeper due first once every participant fiber is asleep or has left,
 * sets the time to its wake-up time, and repeats. Like `TestClock`, a sleep of
 * zero or less returns at once.
 */
class VirtualClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  readonly currentTimeMillis: Effect.Effect<number>
  readonly currentTimeNanos: Effect.Effect<bigint>
  /** A participant has finished. */
  readonly leave: Effect.Effect<void>
  private nowMillis = 0
  private awake: number
  private order = 0
  private readonly sleepers = new SleeperHeap()
  private onAllAsleep: (() => void) | undefined = undefined

  constructor(participants: number) {
    this.awake = participants
    this.currentTimeMillis = Effect.sync(() => this.nowMillis)
    this.currentTimeNanos = Effect.sync(() => this.unsafeCurrentTimeNanos())
    this.leave = Effect.sync(() => this.fallAsleep())
  }

  unsafeCurrentTimeMillis(): number {
    return this.nowMillis
  }

  unsafeCurrentTimeNanos(): bigint {
    return BigInt(Math.round(this.nowMillis * 1_000_000))
  }

  sleep(duration: Duration.Duration): Effect.Effect<void> {
    const millis = Duration.toMillis(duration)
    if (!(millis > 0)) return Effect.void
    return Effect.async<void>((resume) => {
      const sleeper: Sleeper = {
        at: this.nowMillis + millis,
        order: this.order++,
        wake: () => resume(Effect.void),
        cancelled: false
      }
      this.sleepers.push(sleeper)
      this.fallAsleep()
      return Effect.sync(() => {
        sleeper.cancelled = true
        this.awake++
      })
    })
  }

  /** Wakes the sleepers one at a time in time order; ends when every participant has left. */
  drive(): Effect.Effect<void> {
    const loop: Effect.Effect<void> = Effect.flatMap(this.allAsleep(), () => {
      const next = this.nextSleeper()
      if (next === undefined) return Effect.void
      this.nowMillis = next.at
      this.awake++
      next.wake()
      return loop
    })
    return loop
  }

  private nextSleeper(): Sleeper | undefined {
    let next = this.sleepers.pop()
    while (next !== undefined && next.cancelled) next = this.sleepers.pop()
    return next
  }

  private allAsleep(): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.awake === 0) resume(Effect.void)
      else this.onAllAsleep = () => resume(Effect.void)
    })
  }

  private fallAsleep(): void {
    this.awake--
    const notify = this.onAllAsleep
    if (this.awake === 0 && notify !== undefined) {
      this.onAllAsleep = undefined
      notify()
    }
  }
}

/** Runs the participants on a fresh virtual clock and collects their results in order. */
const runOnVirtualClock = <A>(participants: ReadonlyArray<Effect.Effect<A>>): Effect.Effect<Array<A>> =>
  Effect.suspend(() => {
    const clock = new VirtualClock(participants.length)
    return Effect.gen(function*() {
      const fibers = yield* Effect.forEach(participants, (participant) =>
        Effect.fork(Effect.ensuring(participant, clock.leave)))
      yield* clock.drive()
      return yield* Fiber.joinAll(fibers)
    }).pipe(Effect.withClock(clock))
  })

/** Runs the participants under Effect's `TestClock`, advanced far enough for all of them to end. */
const runOnTestClock = <A>(
  participants: ReadonlyArray<Effect.Effect<A>>,
  horizonMillis: number,
  random: Random.Random
): Effect.Effect<Array<A>> =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(participants, (participant) => Effect.fork(participant))
    yield* TestClock.adjust(Duration.millis(horizonMillis + 3_600_000))
    return yield* Fiber.joinAll(fibers)
  }).pipe(Effect.withRandom(random), Effect.provide(TestContext.TestContext))

/**
 * Runs participant fibers together in virtual time, all drawing from one
 * random generator seeded with `seed`, and returns their results in order.
 */
export const runTogether = <A>(
  options: SimulationOptions,
  seed: string,
  participants: ReadonlyArray<Effect.Effect<A>>
): Effect.Effect<Array<A>> =>
  Effect.suspend(() => {
    const random = Random.make(seed)
    return options.clock === "virtual"
      ? Effect.withRandom(runOnVirtualClock(participants), random)
      : runOnTestClock(participants, options.horizonMillis, random)
  })

// ---------------------------------------------------------------------------
// Contention
// ---------------------------------------------------------------------------

/** The contended record: a version that every successful write increments. */
interface Store {
  readonly read: Effect.Effect<number>
  /** Lands a write made against `seen`: it succeeds only if no write landed since that version was read. */
  readonly write: (seen: number) => Effect.Effect<boolean>
}

const makeStore: Effect.Effect<Store> = Effect.map(Ref.make(0), (version) => ({
  read: Ref.get(version),
  write: (seen) =>
    Ref.modify(version, (current) => current === seen ? [true, current + 1] : [false, current])
}))

/** One one-way network latency. */
const latencyDraw = (options: SimulationOptions): Effect.Effect<number> => {
  const { latencyMillis: mean, latencySpreadMillis: spread } = options
  if (options.latencyShape === "uniform") return Random.nextRange(mean - spread, mean + spread)
  // Box-Muller, folded at zero like the study's abs(normalvariate(mean, sd)).
  return Effect.map(
    Effect.zip(Random.next, Random.next),
    ([u, v]) => Math.abs(mean + spread * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v))
  )
}

/** Sleeps `waitMillis`, then `legs` one-way latencies. */
const travel = (options: SimulationOptions, waitMillis: number, legs: number): Effect.Effect<void> =>
  Effect.flatMap(
    Effect.reduce(Array.from({ length: legs }), waitMillis, (total) =>
      Effect.map(latencyDraw(options), (latency) => total + latency)),
    (millis) => Effect.sleep(Duration.millis(millis))
  )

/** The jitter of a strategy, or `undefined` for no backoff at all. */
const jitterOf = (strategy: Strategy): RetryDecision.Plan["jitter"] | undefined => {
  switch (strategy) {
    case "none":
      return undefined
    case "exponential":
      return "none"
    case "equal":
    case "decorrelated":
      return strategy
    case "full":
    case "full+tokenBucket":
    case "full+ratio":
      return "full"
    case "policy":
      return undefined
  }
}

/** The backoff of a strategy: the study's numbers, or the policy's for "policy". */
const backoffOf = (
  strategy: Strategy,
  options: SimulationOptions
): Pick<ContentionWorld, "jitter" | "backoff" | "maxCalls"> => {
  if (strategy !== "policy") {
    return {
      jitter: jitterOf(strategy),
      backoff: { baseMillis: options.baseMillis, capMillis: options.capMillis },
      maxCalls: Infinity
    }
  }
  const { policy } = options
  return {
    jitter: policy.jitter,
    backoff: {
      baseMillis: Duration.toMillis(policy.baseDelay),
      capMillis: Duration.toMillis(policy.maxDelay),
      factor: policy.factor,
      firstExponent: 0
    },
    maxCalls: policy.maxAttempts
  }
}

/** The budget a strategy draws on. */
const budgetOf = (strategy: Strategy): BudgetKind =>
  strategy === "full+tokenBucket" ? "tokenBucket" : strategy === "full+ratio" ? "ratio" : "none"

/** A fresh budget of a kind, with the library's default options. */
const makeBudget = (kind: BudgetKind): Effect.Effect<RetryBudget.Service | undefined> => {
  switch (kind) {
    case "none":
      return Effect.succeed(undefined)
    case "tokenBucket":
      return RetryBudget.makeTokenBucket()
    case "ratio":
      return RetryBudget.makeRatio()
  }
}

/**
 * The numbers of a backoff: the study's (factor 2, first wait base·2) unless
 * `factor` and `firstExponent` say otherwise; a policy's first wait is its
 * base (`firstExponent` 0).
 */
export interface Backoff {
  readonly baseMillis: number
  readonly capMillis: number
  readonly factor?: number
  readonly firstExponent?: number
}

/**
 * The wait before retry number `retry` (1-based), by the library's decision
 * core (`RetryDecision`). A policy's wait is exactly what `Retry.retry` would
 * wait: jitter, then the cap. The study caps before jitter:
 * `uniform(0, min(cap, base·2^retry))`; that is the core's backoff for a plan
 * whose first delay is the capped exponential (decorrelated jitter reads the
 * previous wait instead, capped after).
 */
export const backoffMillis = (
  jitter: RetryDecision.Plan["jitter"] | undefined,
  retry: number,
  previousMillis: number,
  options: Backoff
): Effect.Effect<number> => {
  if (jitter === undefined) return Effect.succeed(0)
  const plan = { baseMillis: options.baseMillis, factor: options.factor ?? 2, jitter, capMillis: options.capMillis }
  const firstExponent = options.firstExponent ?? 1
  if (firstExponent === 0 || jitter === "decorrelated") {
    return RetryDecision.drawBackoff(plan, retry + firstExponent, previousMillis)
  }
  const cappedFirst = RetryDecision.backoff({ ...plan, jitter: "none" }, retry + firstExponent, 0, 0)
  return RetryDecision.drawBackoff({ ...plan, baseMillis: cappedFirst, factor: 1 }, 1, previousMillis)
}

/** What a contending client needs: the store, its strategy and budget, and the options. */
interface ContentionWorld {
  readonly store: Store
  readonly jitter: RetryDecision.Plan["jitter"] | undefined
  readonly backoff: Backoff
  /** Write attempts after which a client gives up (the policy's maxAttempts; unbounded in the study). */
  readonly maxCalls: number
  readonly budget: RetryBudget.Service | undefined
  readonly options: SimulationOptions
}

/** Where a client's backoff stands: retries waited for, the last wait, budget tokens taken. */
interface BackoffState {
  readonly retry: number
  readonly previousMillis: number
  readonly spent: number
}

/**
 * The wait before a client's next read, drawing on the budget if there is
 * one. A refused client sleeps that backoff and asks again, its backoff
 * growing as after a failed write, until the budget grants a retry; `None`
 * when the horizon passes first.
 */
const waitForRetry = (
  world: ContentionWorld,
  state: BackoffState
): Effect.Effect<Option.Option<readonly [number, BackoffState]>> =>
  Effect.gen(function*() {
    let { previousMillis, retry } = state
    for (;;) {
      retry++
      const waitMillis = yield* backoffMillis(world.jitter, retry, previousMillis, world.backoff)
      previousMillis = waitMillis
      if (world.budget === undefined) return Option.some([waitMillis, { ...state, retry, previousMillis }] as const)
      const granted = yield* world.budget.withdraw("error")
      if (Option.isSome(granted)) {
        return Option.some([waitMillis, { retry, previousMillis, spent: state.spent + granted.value }] as const)
      }
      yield* Effect.sleep(Duration.millis(waitMillis))
      if ((yield* Clock.currentTimeMillis) >= world.options.horizonMillis) return Option.none()
    }
  })

/** How one client did: its write attempts, and when it learnt that its write succeeded. */
export interface ClientOutcome {
  readonly calls: number
  /** Undefined when the client was still failing at the horizon. */
  readonly finishedAtMillis: number | undefined
}

/** One client: read, write, learn the outcome; on failure back off and go again until the write succeeds. */
const contendingClient = (world: ContentionWorld): Effect.Effect<ClientOutcome> =>
  Effect.gen(function*() {
    const { budget, options, store } = world
    if (budget !== undefined) yield* budget.request
    let state: BackoffState = { retry: 0, previousMillis: world.backoff.baseMillis, spent: 0 }
    let waitMillis = 0
    for (let calls = 1;; calls++) {
      yield* travel(options, waitMillis, 1) // the wait, then the read request reaches the store
      const seen = yield* store.read
      yield* travel(options, 0, 2) // the version comes back, the write reaches the store
      const written = yield* store.write(seen)
      yield* travel(options, 0, 1) // the outcome comes back
      const now = yield* Clock.currentTimeMillis
      if (written) {
        if (budget !== undefined) yield* budget.succeeded(state.spent)
        return { calls, finishedAtMillis: now }
      }
      const next = now >= options.horizonMillis || calls >= world.maxCalls ? Option.none() : yield* waitForRetry(world, state)
      if (Option.isNone(next)) return { calls, finishedAtMillis: undefined }
      ;[waitMillis, state] = next.value
    }
  })

/** The totals of one contention run. */
export interface RunOutcome {
  readonly calls: number
  readonly completionMs: number
  readonly finished: number
}

const summarise = (outcomes: ReadonlyArray<ClientOutcome>): RunOutcome => ({
  calls: outcomes.reduce((sum, outcome) => sum + outcome.calls, 0),
  completionMs: Math.max(0, ...outcomes.map((outcome) => outcome.finishedAtMillis ?? 0)),
  finished: outcomes.filter((outcome) => outcome.finishedAtMillis !== undefined).length
})

/** One contention run of a strategy: `options.clients` clients against a fresh store and budget. */
export const contentionRun = (
  strategy: Strategy,
  options: SimulationOptions,
  run: number
): Effect.Effect<RunOutcome> =>
  Effect.gen(function*() {
    const store = yield* makeStore
    const budget = yield* makeBudget(budgetOf(strategy))
    const world: ContentionWorld = { store, budget, options, ...backoffOf(strategy, options) }
    const clients = Array.from({ length: options.clients }, () => contendingClient(world))
    const seed = `${options.seed}:contention:${options.latencyShape}:${strategy}:${run}`
    return summarise(yield* runTogether(options, seed, clients))
  })

/** A strategy's result, averaged over the runs. */
export interface ContentionRow {
  readonly strategy: Strategy
  /** Write attempts of all clients, mean per run, rounded. */
  readonly calls: number
  /** When the last client succeeded, mean per run, rounded to the millisecond. */
  readonly completionMs: number
  /** Clients that had not succeeded at the horizon, over all runs (0 when every client finished). */
  readonly unfinished: number
}

/** The contention scenario's results with the options that produced them. */
export interface ContentionReport {
  readonly options: SimulationOptions
  readonly rows: ReadonlyArray<ContentionRow>
}

const mean = (values: ReadonlyArray<number>): number => values.reduce((sum, value) => sum + value, 0) / values.length

/** Runs a strategy `options.runs` times and averages. */
const contentionRow = (strategy: Strategy, options: SimulationOptions): Effect.Effect<ContentionRow> =>
  Effect.map(
    Effect.forEach(Array.from({ length: options.runs }, (_, run) => run), (run) => contentionRun(strategy, options, run)),
    (runs) => ({
      strategy,
      calls: Math.round(mean(runs.map((run) => run.calls))),
      completionMs: Math.round(mean(runs.map((run) => run.completionMs))),
      unfinished: runs.reduce((sum, run) => sum + options.clients - run.finished, 0)
    })
  )

/** Runs the contention scenario for every strategy of the options. */
export const runContention = (options: Partial<SimulationOptions> = {}): Effect.Effect<ContentionReport> => {
  const resolved = resolveOptions(options)
  return Effect.map(
    Effect.forEach(resolved.strategies, (strategy) => contentionRow(strategy, resolved)),
    (rows) => ({ options: resolved, rows })
  )
}

// ---------------------------------------------------------------------------
// Amplification
// ---------------------------------------------------------------------------

/** The backend's answer while it is down: retryable. */
class Outage extends Retryable.TaggedError("Outage")<{}> {}

/** An amplification result: the backend's requests per call made. */
export interface AmplificationRow {
  readonly budget: BudgetKind
  /** Calls made, each a first attempt. */
  readonly calls: number
  /** Requests the backend received: first attempts and retries. */
  readonly requests: number
  /** requests / calls. */
  readonly amplification: number
}

/** The amplification scenario's results with the options that produced them. */
export interface AmplificationReport {
  readonly options: SimulationOptions
  readonly rows: ReadonlyArray<AmplificationRow>
}

/** When every call starts, and which caller makes it: each caller from a random phase, once every `callEveryMillis` during the outage. */
const callStarts = (options: SimulationOptions): Effect.Effect<Array<{ readonly at: number; readonly caller: number }>> => {
  const phases = Random.make(`${options.seed}:amplification:phases`)
  return Effect.map(
    Effect.forEach(Array.from({ length: options.callers }), () => phases.nextRange(0, options.callEveryMillis)),
    (offsets) =>
      offsets.flatMap((offset, caller) =>
        Array.from({ length: Math.ceil((options.outageMillis - offset) / options.callEveryMillis) }, (_, k) => ({
          at: offset + k * options.callEveryMillis,
          caller
        }))
      )
  )
}

/**
 * One amplification run: every call under `Retry.retry(RetryPolicy.default)`;
 * caller number `i` draws on `budgets[i % budgets.length]` (one budget: all share it).
 */
const amplificationRun = (
  kind: BudgetKind,
  budgetCount: number,
  seed: string,
  options: SimulationOptions
): Effect.Effect<AmplificationRow> =>
  Effect.gen(function*() {
    const requests = yield* Ref.make(0)
    const budgets = yield* Effect.forEach(Array.from({ length: budgetCount }), () => makeBudget(kind))
    const starts = yield* callStarts(options)
    const call = (budget: RetryBudget.Service | undefined) =>
      Ref.update(requests, (n) => n + 1).pipe(
        Effect.zipRight(Effect.fail(new Outage())),
        Retry.retry(options.policy, { budget }),
        Effect.ignore
      )
    const calls = starts.map(({ at, caller }) =>
      Effect.zipRight(Effect.sleep(Duration.millis(at)), call(budgets[caller % budgets.length]))
    )
    yield* runTogether(options, seed, calls)
    const received = yield* Ref.get(requests)
    return { budget: kind, calls: starts.length, requests: received, amplification: received / starts.length }
  }).pipe(Logger.withMinimumLogLevel(LogLevel.None))

/** One amplification run: every call under `Retry.retry(RetryPolicy.default)`, all sharing one budget. */
const amplificationRow = (kind: BudgetKind, options: SimulationOptions): Effect.Effect<AmplificationRow> =>
  amplificationRun(kind, 1, `${options.seed}:amplification:${kind}`, options)

/** Runs the amplification scenario with every budget of the options. */
export const runAmplification = (options: Partial<SimulationOptions> = {}): Effect.Effect<AmplificationReport> => {
  const resolved = resolveOptions(options)
  return Effect.map(
    Effect.forEach(resolved.budgets, (kind) => amplificationRow(kind, resolved)),
    (rows) => ({ options: resolved, rows })
  )
}

/** Whether each process of a fleet has its own budget or all share one (as with `RedisBudget` from `effect-retry/redis`). */
export type Sharing = "per process" | "shared"

/** A fleet result: the amplification of one budget kind, per process or shared. */
export interface FleetRow extends AmplificationRow {
  readonly sharing: Sharing
}

/** The fleet scenario's results with the options that produced them. */
export interface FleetReport {
  readonly options: SimulationOptions
  readonly rows: ReadonlyArray<FleetRow>
}

/**
 * The amplification scenario for a fleet: the same callers spread over
 * `processes` processes. With a budget per process the fleet may retry
 * `processes` times what one budget allows; a shared budget is modelled as
 * one budget that every process draws on, which is what `RedisBudget` keeps
 * in Redis (same rules; the batching of request counts is not modelled).
 */
export const runFleet = (options: Partial<SimulationOptions> = {}): Effect.Effect<FleetReport> => {
  const resolved = resolveOptions(options)
  const runs = resolved.budgets.flatMap((kind): Array<readonly [BudgetKind, Sharing]> =>
    kind === "none" ? [[kind, "per process"]] : [[kind, "per process"], [kind, "shared"]]
  )
  return Effect.map(
    Effect.forEach(runs, ([kind, sharing]) =>
      Effect.map(
        amplificationRun(
          kind,
          sharing === "shared" ? 1 : resolved.processes,
          `${resolved.seed}:fleet:${kind}:${sharing}`,
          resolved
        ),
        (row): FleetRow => ({ ...row, sharing })
      )),
    (rows) => ({ options: resolved, rows })
  )
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

/** Everything one `npm run simulate` produces. */
export interface SimulationResults {
  readonly contention: ContentionReport
  readonly amplification: AmplificationReport
  /** The fleet scenario, when run. */
  readonly fleet?: FleetReport | undefined
}

/** Breaks text into lines of at most `width` characters at spaces, indenting the lines after the first. */
const wrap = (text: string, width = 100, indent = "  "): Array<string> =>
  text.split(" ").reduce<Array<string>>((lines, word) => {
    const last = lines[lines.length - 1]
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`
    else lines.push(last === undefined ? word : `${indent}${word}`)
    return lines
  }, [])

const thousands = (n: number): string => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")

const seconds = (millis: number): string => (millis / 1000).toFixed(1)

const signedPercent = (value: number): string => `${value >= 0 ? "+" : ""}${value.toFixed(1)} %`

/** Percent by which `ours` differs from `theirs`. */
export const deviationPercent = (ours: number, theirs: number): number => ((ours - theirs) / theirs) * 100

/** Whether a row's call count is within the tolerance of the published one (undefined when none was published). */
export const withinTolerance = (row: ContentionRow): boolean | undefined => {
  const figures = published[row.strategy]
  return figures === undefined ? undefined : Math.abs(deviationPercent(row.calls, figures.calls)) <= tolerancePercent
}

const contentionCells = (row: ContentionRow): Array<string> => {
  const figures = published[row.strategy]
  const verdict = withinTolerance(row)
  return [
    row.strategy,
    thousands(row.calls),
    seconds(row.completionMs),
    figures === undefined ? "-" : thousands(figures.calls),
    figures === undefined ? "-" : seconds(figures.completionMs),
    figures === undefined ? "-" : signedPercent(deviationPercent(row.calls, figures.calls)),
    figures === undefined ? "-" : signedPercent(deviationPercent(row.completionMs, figures.completionMs)),
    verdict === undefined ? "" : verdict ? `within ±${tolerancePercent} %` : `OUTSIDE ±${tolerancePercent} %`
  ]
}

const contentionHeader = [
  "strategy",
  "calls",
  "time (s)",
  "published calls",
  "published time (s)",
  "calls vs published",
  "time vs published",
  "calls check"
]

const contentionAlign = ["left", "right", "right", "right", "right", "right", "right", "left"] as const

const latencyLabel = (options: SimulationOptions): string =>
  options.latencyShape === "uniform"
    ? `latency ${options.latencyMillis} ± ${options.latencySpreadMillis} ms uniform`
    : `latency |N(${options.latencyMillis} ms, ${options.latencySpreadMillis} ms)| (the study's)`

const contentionTitle = (options: SimulationOptions): string =>
  `${options.clients} clients each write one record once (optimistic concurrency), base ${options.baseMillis} ms, ` +
  `cap ${options.capMillis / 1000} s, ${latencyLabel(options)}; mean of ${options.runs} run${
    options.runs === 1 ? "" : "s"
  }, seed ${options.seed}`

const unfinishedNote = (report: ContentionReport): Array<string> => {
  const unfinished = report.rows.filter((row) => row.unfinished > 0)
  return unfinished.length === 0
    ? ["Every client finished in every run."]
    : unfinished.map((row) => `${row.strategy}: ${row.unfinished} clients had not succeeded at the horizon.`)
}

/** Why a strategy can land outside the tolerance, as far as we understand it. */
const outsideReasons: Readonly<Partial<Record<Strategy, string>>> = {
  exponential: "without jitter, clients that collided wait exactly as long as each other, so only the network's " +
    "randomness pulls them apart. The study drew each latency from |N(10 ms, 2 ms)| (standard deviation 2 ms); " +
    "10 ± 2 ms uniform has a standard deviation of 1.15 ms, so the clients stay bunched for more rounds, and " +
    "collide more. The default, --latency normal, is the study's model."
}

const outsideNote = (report: ContentionReport): Array<string> =>
  report.rows.flatMap((row) => {
    const figures = published[row.strategy]
    if (figures === undefined || withinTolerance(row) !== false) return []
    const reason = outsideReasons[row.strategy] ?? "see docs/overload.md."
    return wrap(
      `${row.strategy}: ${thousands(row.calls)} calls, ${
        signedPercent(deviationPercent(row.calls, figures.calls))
      } from the published ${thousands(figures.calls)}, outside ±${tolerancePercent} %: ${reason}`
    )
  })

const contentionTable = (report: ContentionReport): Array<string> => [
  contentionTitle(report.options),
  "",
  ...renderTable(contentionHeader, report.rows.map(contentionCells), contentionAlign),
  "",
  ...unfinishedNote(report),
  ...outsideNote(report)
]

/** The callers' policy, for a title. */
const policyLabel = (options: SimulationOptions): string =>
  `${options.policy === RetryPolicy.default ? "RetryPolicy.default" : "the given policy"} (${options.policy.maxAttempts} attempts)`

const amplificationTitle = (options: SimulationOptions): string =>
  `${options.callers} callers each start a call every ${options.callEveryMillis / 1000} s for ${
    options.outageMillis / 1000
  } s against a backend in full outage, ${policyLabel(options)}, one shared budget`

const amplificationTable = (report: AmplificationReport): Array<string> => [
  amplificationTitle(report.options),
  "",
  ...renderTable(
    ["budget", "calls", "requests received", "requests / calls"],
    report.rows.map((row) => [
      row.budget,
      thousands(row.calls),
      thousands(row.requests),
      `${row.amplification.toFixed(3)}x`
    ]),
    ["left", "right", "right", "right"]
  )
]

const fleetTable = (report: FleetReport): Array<string> => [
  `${report.options.callers} callers spread over ${report.options.processes} processes, each starting a call every ${
    report.options.callEveryMillis / 1000
  } s for ${report.options.outageMillis / 1000} s against a backend in full outage, ${policyLabel(report.options)}; ` +
  `a budget per process (${report.options.processes} budgets) or one shared by the fleet (RedisBudget)`,
  "",
  ...renderTable(
    ["budget", "held", "calls", "requests received", "requests / calls"],
    report.rows.map((row) => [
      row.budget,
      row.budget === "none" ? "-" : row.sharing,
      thousands(row.calls),
      thousands(row.requests),
      `${row.amplification.toFixed(3)}x`
    ]),
    ["left", "left", "right", "right", "right"]
  )
]

/** The printed report: the contention table, the amplification table and the fleet table when run. */
export const formatTables = (results: SimulationResults): string =>
  [
    "Contention (AWS Architecture Blog, \"Exponential Backoff And Jitter\", 2015)",
    ...contentionTable(results.contention),
    "",
    "Amplification",
    ...amplificationTable(results.amplification),
    ...(results.fleet === undefined ? [] : ["", "Fleet: local vs shared budgets", ...fleetTable(results.fleet)])
  ].join("\n")

/** The contention rows in the shape of `contention.json`. */
export const contentionJson = (report: ContentionReport): Array<{ strategy: Strategy; calls: number; completionMs: number }> =>
  report.rows.map(({ calls, completionMs, strategy }) => ({ strategy, calls, completionMs }))

/**
 * Writes `contention.json`, `amplification.json`, `fleet.json` (when the fleet scenario ran) and `contention.svg` into
 * `outDir` (created if needed) and returns the paths written.
 */
export const writeReport = (outDir: string, results: SimulationResults): Effect.Effect<Array<string>, Error> => {
  const files: Array<readonly [string, string]> = [
    ["contention.json", JSON.stringify(contentionJson(results.contention), null, 2) + "\n"],
    ["amplification.json", JSON.stringify(results.amplification.rows, null, 2) + "\n"],
    ...(results.fleet === undefined
      ? []
      : [["fleet.json", JSON.stringify(results.fleet.rows, null, 2) + "\n"] as const]),
    ["contention.svg", contentionSvg(results.contention)]
  ]
  return Effect.tryPromise({
    try: async () => {
      await mkdir(outDir, { recursive: true })
      for (const [name, text] of files) await writeFile(join(outDir, name), text)
      return files.map(([name]) => join(outDir, name))
    },
    catch: (error) => error instanceof Error ? error : new Error(String(error))
  })
}

// ---------------------------------------------------------------------------
// Chart
// ---------------------------------------------------------------------------

const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** A round step for about five ticks up to `max`. */
const tickStep = (max: number): number => {
  const rough = max / 5
  const magnitude = Math.pow(10, Math.floor(Math.log10(rough)))
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= rough) ?? 10
  return step * magnitude
}

interface Bar {
  readonly label: string
  readonly value: number
  readonly published: number | undefined
  readonly budgeted: boolean
}

interface Panel {
  readonly title: string
  readonly x: number
  readonly bars: ReadonlyArray<Bar>
  /** Formats a bar's value. */
  readonly format: (value: number) => string
  /** Formats a tick of the value axis. */
  readonly tick: (value: number) => string
}

const CHART = { width: 1040, height: 500, panelWidth: 500, top: 70, plotHeight: 280, left: 62, right: 12 } as const
const COLORS = { study: "#4c78a8", budget: "#f58518", published: "#d62728", grid: "#dddddd", text: "#222222" } as const

const text = (x: number, y: number, content: string, attributes = ""): string =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`

const axis = (panel: Panel, max: number, step: number, y: (value: number) => number): Array<string> => {
  const left = panel.x + CHART.left
  const right = panel.x + CHART.panelWidth - CHART.right
  const lines: Array<string> = []
  for (let value = 0; value <= max + step / 1000; value += step) {
    lines.push(
      `<line x1="${left}" y1="${y(value).toFixed(1)}" x2="${right}" y2="${y(value).toFixed(1)}" stroke="${COLORS.grid}"/>`,
      text(left - 6, y(value) + 4, panel.tick(value), `text-anchor="end" font-size="11"`)
    )
  }
  return lines
}

const bars = (panel: Panel, y: (value: number) => number): Array<string> => {
  const left = panel.x + CHART.left
  const slot = (CHART.panelWidth - CHART.left - CHART.right) / panel.bars.length
  const bottom = y(0)
  return panel.bars.flatMap((bar, i) => {
    const x = left + i * slot + slot * 0.2
    const width = slot * 0.6
    const marker = bar.published === undefined ? [] : [
      `<line x1="${(x - 4).toFixed(1)}" y1="${y(bar.published).toFixed(1)}" x2="${(x + width + 4).toFixed(1)}" ` +
      `y2="${y(bar.published).toFixed(1)}" stroke="${COLORS.published}" stroke-width="3"/>`
    ]
    const labelX = x + width / 2
    return [
      `<rect x="${x.toFixed(1)}" y="${y(bar.value).toFixed(1)}" width="${width.toFixed(1)}" ` +
      `height="${(bottom - y(bar.value)).toFixed(1)}" fill="${bar.budgeted ? COLORS.budget : COLORS.study}"/>`,
      ...marker,
      text(labelX, Math.min(y(bar.value), y(bar.published ?? 0)) - 6, panel.format(bar.value), `text-anchor="middle" font-size="11"`),
      text(labelX, bottom + 14, bar.label, `text-anchor="end" font-size="12" transform="rotate(-30 ${labelX.toFixed(1)} ${(bottom + 14).toFixed(1)})"`)
    ]
  })
}

const panelSvg = (panel: Panel): Array<string> => {
  const max = Math.max(...panel.bars.flatMap((bar) => [bar.value, bar.published ?? 0]), 1)
  const step = tickStep(max)
  const top = Math.ceil(max / step) * step
  const y = (value: number) => CHART.top + CHART.plotHeight * (1 - value / top)
  return [
    text(panel.x + CHART.left, CHART.top - 24, panel.title, `font-size="15" font-weight="bold"`),
    ...axis(panel, top, step, y),
    ...bars(panel, y)
  ]
}

const legend = (options: SimulationOptions): Array<string> => {
  const y = CHART.height - 22
  return [
    `<rect x="40" y="${y - 11}" width="14" height="14" fill="${COLORS.study}"/>`,
    text(60, y, `simulated, mean of ${options.runs} runs (seed ${options.seed})`, `font-size="12"`),
    `<rect x="330" y="${y - 11}" width="14" height="14" fill="${COLORS.budget}"/>`,
    text(350, y, "simulated, full jitter drawing on a RetryBudget", `font-size="12"`),
    `<line x1="660" y1="${y - 4}" x2="684" y2="${y - 4}" stroke="${COLORS.published}" stroke-width="3"/>`,
    text(690, y, "published (AWS Architecture Blog, 2015)", `font-size="12"`)
  ]
}

/** The contention chart: calls and completion time per strategy, side by side, with the published figures marked. */
export const contentionSvg = (report: ContentionReport): string => {
  const toBar = (pick: (figures: Figures) => number) => (row: ContentionRow): Bar => {
    const figures = published[row.strategy]
    return {
      label: row.strategy,
      value: pick(row),
      published: figures === undefined ? undefined : pick(figures),
      budgeted: budgetOf(row.strategy) !== "none"
    }
  }
  const panels: Array<Panel> = [
    {
      title: "Calls (write attempts)",
      x: 10,
      bars: report.rows.map(toBar((f) => f.calls)),
      format: thousands,
      tick: thousands
    },
    {
      title: "Completion time (s)",
      x: 10 + CHART.panelWidth + 20,
      bars: report.rows.map(toBar((f) => f.completionMs)),
      format: seconds,
      tick: (millis) => String(Number((millis / 1000).toFixed(1)))
    }
  ]
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${CHART.height}" ` +
    `viewBox="0 0 ${CHART.width} ${CHART.height}" font-family="Helvetica, Arial, sans-serif" fill="${COLORS.text}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(20, 22, `Contention: ${contentionTitle(report.options)}`, `font-size="12"`),
    ...panels.flatMap(panelSvg),
    ...legend(report.options),
    `</svg>`,
    ""
  ].join("\n")
}
