/**
 * One process of a test fleet (started by test/fleet.test.ts with
 * `child_process.fork` and `--import tsx`): it builds its own Effect runtime,
 * receives a job over IPC, runs it against the parent's loopback backend and
 * redis-server, and sends back what it saw. Unhandled rejections and uncaught
 * exceptions are counted and reported, never swallowed silently.
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Layer, Logger, LogLevel, Option, Schedule } from "effect"
import { RetryBudget, RetryCooldown, RetryPolicy } from "../../src/index.js"
import { HttpRetry } from "../../src/http/index.js"
import { RedisBudget, RedisCooldown, RedisStore } from "../../src/redis/index.js"

export type BudgetChoice =
  | { readonly kind: "shared-token"; readonly name: string; readonly capacity: number; readonly retryCost: number; readonly mode?: RedisBudget.Mode }
  | { readonly kind: "local-token"; readonly capacity: number; readonly retryCost: number }
  | { readonly kind: "shared-ratio"; readonly name: string; readonly percent: number; readonly minPerSecond: number; readonly mode?: RedisBudget.Mode }
  | { readonly kind: "local-ratio"; readonly percent: number; readonly minPerSecond: number }

export interface Phase {
  /** Where this phase's calls go, on the parent's backend. */
  readonly url: string
  readonly budget: BudgetChoice
}

export type Job =
  | {
    /**
     * For each phase in turn: `calls` GET calls through withRetry
     * (`concurrency` at a time, `spacingMs` apart in each fiber) against the
     * phase's URL, drawing on the phase's budget. Calls start when the parent
     * sends "go".
     */
    readonly kind: "http"
    readonly redisUrl: string
    readonly prefix: string
    readonly redisTimeoutMs: number
    readonly phases: ReadonlyArray<Phase>
    readonly calls: number
    readonly concurrency: number
    readonly maxAttempts: number
    readonly spacingMs?: number
  }
  | {
    /** `fibers` fibers withdraw at once from a shared bucket, after the parent says "go". */
    readonly kind: "burst"
    readonly redisUrl: string
    readonly prefix: string
    readonly fibers: number
    readonly capacity: number
    readonly retryCost: number
  }

  | {
    /**
     * Calls to each of `urls` in turn, `spacingMs` apart, for `durationMs`,
     * through withRetry with `cooldown: "all"` and the Redis cool-down store.
     */
    readonly kind: "cooldown"
    readonly redisUrl: string
    readonly prefix: string
    readonly redisTimeoutMs: number
    readonly urls: ReadonlyArray<string>
    readonly durationMs: number
    readonly spacingMs: number
  }

export interface CallReport {
  readonly ms: number
  readonly outcome: "success" | "failure" | "defect" | "interrupted"
  /** The failure's tag or name, when it failed. */
  readonly error?: string
}

export type Reply =
  | { readonly kind: "ready" }
  | {
    readonly kind: "done"
    readonly calls: ReadonlyArray<CallReport>
    readonly granted?: number
    readonly unhandled: number
    /** Cool-down job: when (wall-clock ms) each attempt was handed to the HTTP client, per origin. */
    readonly sends?: ReadonlyArray<{ readonly origin: string; readonly at: number }>
    /** Cool-down job: when (wall-clock ms) this process first saw a cool-down for the first URL's origin. */
    readonly learnedAt?: number
  }
  | { readonly kind: "failed"; readonly message: string }

let unhandled = 0
process.on("unhandledRejection", () => void unhandled++)
process.on("uncaughtException", () => void unhandled++)

const send = (reply: Reply) => new Promise<void>((resolve) => process.send!(reply, () => resolve()))

const storeOf = (job: { readonly redisUrl: string; readonly prefix: string; readonly redisTimeoutMs: number }) =>
  RedisStore.layer({
    url: job.redisUrl,
    prefix: job.prefix,
    timeout: Duration.millis(job.redisTimeoutMs),
    connectTimeout: "5 seconds"
  })

const budgetLayer = (job: Extract<Job, { kind: "http" }>, choice: BudgetChoice): Layer.Layer<RetryBudget.RetryBudget> => {
  switch (choice.kind) {
    case "shared-token":
      return RedisBudget.tokenBucket({
        name: choice.name,
        capacity: choice.capacity,
        retryCost: choice.retryCost,
        onStoreError: choice.mode ?? "local",
        flushEvery: "100 millis"
      }).pipe(Layer.provide(storeOf(job)))
    case "local-token":
      return RetryBudget.tokenBucket({ capacity: choice.capacity, retryCost: choice.retryCost })
    case "shared-ratio":
      return RedisBudget.ratio({
        name: choice.name,
        percent: choice.percent,
        minPerSecond: choice.minPerSecond,
        onStoreError: choice.mode ?? "local",
        flushEvery: "100 millis"
      }).pipe(Layer.provide(storeOf(job)))
    case "local-ratio":
      return RetryBudget.ratio({ percent: choice.percent, minPerSecond: choice.minPerSecond })
  }
}

/** Runs one call and reports how long it took and how it ended. */
const timed = <A, E>(call: Effect.Effect<A, E>): Effect.Effect<CallReport> =>
  Effect.gen(function*() {
    const start = performance.now()
    const exit = yield* Effect.exit(call)
    const ms = performance.now() - start
    if (Exit.isSuccess(exit)) return { ms, outcome: "success" as const }
    if (Cause.isInterruptedOnly(exit.cause)) return { ms, outcome: "interrupted" as const }
    const failure = Option.getOrUndefined(Cause.failureOption(exit.cause)) as { _tag?: string; reason?: string } | undefined
    return {
      ms,
      outcome: Option.isSome(Cause.dieOption(exit.cause)) ? "defect" as const : "failure" as const,
      error: `${failure?._tag ?? "unknown"}${failure?.reason === undefined ? "" : ` ${failure.reason}`}`
    }
  })

/** Says "ready" to the parent and waits for its "go". */
const barrier = Effect.gen(function*() {
  const go = yield* Deferred.make<void>()
  process.once("message", () => Effect.runFork(Deferred.succeed(go, undefined)))
  yield* Effect.sync(() => process.send!({ kind: "ready" }))
  yield* Deferred.await(go)
})

const runPhase = (job: Extract<Job, { kind: "http" }>, phase: Phase) =>
  Effect.gen(function*() {
    const policy = RetryPolicy.make({ baseDelay: "1 millis", maxDelay: "5 millis", jitter: "none", maxAttempts: job.maxAttempts })
    const client = (yield* HttpClient.HttpClient).pipe(HttpRetry.withRetry(policy, { attemptTimeout: "2 seconds" }))
    const perFiber = Math.ceil(job.calls / job.concurrency)
    const reports = yield* Effect.forEach(
      Array.from({ length: job.concurrency }, (_, fiber) => fiber),
      (fiber) =>
        Effect.forEach(
          Array.from({ length: Math.max(0, Math.min(perFiber, job.calls - fiber * perFiber)) }),
          () =>
            Effect.zipLeft(
              timed(Effect.scoped(Effect.flatMap(client.get(phase.url), (response) => response.text))),
              Effect.sleep(Duration.millis(job.spacingMs ?? 0))
            )
        ),
      { concurrency: "unbounded" }
    )
    return reports.flat()
  }).pipe(Effect.provide(budgetLayer(job, phase.budget)))

const runHttp = (job: Extract<Job, { kind: "http" }>) =>
  Effect.gen(function*() {
    yield* barrier
    const reports = yield* Effect.forEach(job.phases, (phase) => runPhase(job, phase))
    return reports.flat()
  }).pipe(Effect.provide(NodeHttpClient.layerUndici))

const runBurst = (job: Extract<Job, { kind: "burst" }>) =>
  Effect.gen(function*() {
    const budget = yield* RedisBudget.makeTokenBucket({
      name: "burst",
      capacity: job.capacity,
      retryCost: job.retryCost,
      onStoreError: "deny"
    })
    yield* barrier
    const grants = yield* Effect.forEach(Array.from({ length: job.fibers }), () => budget.withdraw("error"), {
      concurrency: "unbounded"
    })
    return grants.filter(Option.isSome).length
  }).pipe(Effect.scoped, Effect.provide(RedisStore.layer({ url: job.redisUrl, prefix: job.prefix, timeout: "10 seconds", connectTimeout: "5 seconds" })))

/** Wall-clock milliseconds, comparable between the processes of one machine. */
const wallClock = () => performance.timeOrigin + performance.now()

const runCooldown = (job: Extract<Job, { kind: "cooldown" }>) =>
  Effect.gen(function*() {
    const policy = RetryPolicy.make({
      baseDelay: "50 millis",
      jitter: "none",
      maxAttempts: 2,
      retryAfter: { max: "5 seconds", whenAboveMax: "clamp", spread: 0 }
    })
    const sends: Array<{ origin: string; at: number }> = []
    const inner = HttpClient.transform(
      yield* HttpClient.HttpClient,
      (response, request) =>
        Effect.zipRight(Effect.sync(() => sends.push({ origin: new URL(request.url).origin, at: wallClock() })), response)
    )
    const client = inner.pipe(HttpRetry.withRetry(policy, { cooldown: "all" }))
    // Watches this process's view of the first URL's cool-down, to tell when it learned of it.
    const cooldown = yield* RetryCooldown.RetryCooldown
    const watched = new URL(job.urls[0]!).origin
    let learnedAt: number | undefined
    const watch = Effect.repeat(
      Effect.sync(() => {
        if (learnedAt === undefined && cooldown.unsafeRemaining(watched, Date.now()) > 0) learnedAt = wallClock()
      }),
      Schedule.spaced("2 millis")
    )
    yield* barrier
    const watcher = yield* Effect.fork(watch)
    const end = performance.now() + job.durationMs
    const reports = yield* Effect.forEach(job.urls, (url) =>
      Effect.gen(function*() {
        const out: Array<CallReport> = []
        while (performance.now() < end) {
          out.push(yield* timed(Effect.scoped(Effect.flatMap(client.get(url), (response) => response.text))))
          yield* Effect.sleep(Duration.millis(job.spacingMs))
        }
        return out
      }), { concurrency: "unbounded" })
    yield* Fiber.interrupt(watcher)
    return { calls: reports.flat(), sends, learnedAt }
  }).pipe(
    Effect.provide(Layer.merge(RedisCooldown.layer.pipe(Layer.provide(storeOf(job))), NodeHttpClient.layerUndici))
  )

process.once("message", (job: Job) => {
  const program: Effect.Effect<Reply> = (() => {
    switch (job.kind) {
      case "http":
        return Effect.map(runHttp(job), (calls): Reply => ({ kind: "done", calls, unhandled }))
      case "cooldown":
        return Effect.map(runCooldown(job), ({ calls, learnedAt, sends }): Reply => ({
          kind: "done",
          calls,
          unhandled,
          sends,
          ...(learnedAt === undefined ? {} : { learnedAt })
        }))
      case "burst":
        return Effect.map(runBurst(job), (granted): Reply => ({ kind: "done", calls: [], granted, unhandled }))
    }
  })()
  Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.Error))).then(
    (reply) => send({ ...reply, unhandled } as Reply),
    (error) => send({ kind: "failed", message: String(error) })
  ).finally(() => process.exit(0))
})

