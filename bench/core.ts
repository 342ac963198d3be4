/**
 * Core benchmarks: what retrying costs on the success path and per retry, and
 * the harness every micro-benchmark of `npm run bench` goes through.
 *
 * Method: each case is a function that runs a fixed number of operations once
 * (an Effect case runs one Effect program that makes all its calls in
 * sequence; a Promise case is an async loop of sequential awaited calls).
 * Every case of a group first runs `warmup` whole rounds (JIT), then `rounds`
 * rounds; within a round every case takes one sample (one run, or several
 * runs of a short case to last at least 50 ms), starting at a different case
 * each round, so that each case sees the same JIT and GC state on average.
 * A figure is the median over the rounds; the cost a case adds over its
 * baseline is the median of the per-round differences (case - baseline of the
 * same round), which cancels slow phases shared by both. No garbage
 * collection is forced between runs (tried: a forced full collection before
 * each run made the allocation-heavy Effect cases slower, bare effect about
 * 105 -> 190 ns); the rotating order spreads the garbage one case leaves to
 * the next over all cases instead. Everything is measured in this run;
 * nothing is compared against numbers from elsewhere.
 */
import { Effect, Logger, LogLevel, Schedule } from "effect"
import { performance } from "node:perf_hooks"
import { Retry, RetryBudget, RetryPolicy } from "./library.js"

/** One benchmark: `run` performs `ops` operations once. */
export interface Case {
  readonly name: string
  readonly ops: number
  readonly run: () => Promise<unknown>
}

/** The measurements of one case, in ns per operation. */
export interface Row {
  readonly name: string
  readonly ops: number
  /** Runs of the case per sample. */
  readonly reps: number
  /** Median over the rounds. */
  readonly nsPerOp: number
  /** Fastest round. */
  readonly best: number
  /** Every round, in round order (round i of every case ran in the same pass). */
  readonly samples: ReadonlyArray<number>
}

export const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * Runs the cases in interleaved rounds after `warmup` rounds; see the module
 * comment. A sample repeats a short case until it lasts at least
 * `minSampleMs` (the repeat count is set from the last warm-up run), so that
 * losing the CPU for a few milliseconds cannot double a 3 ms case.
 */
export const runRounds = async (
  cases: ReadonlyArray<Case>,
  { minSampleMs = 50, rounds, warmup }: { readonly rounds: number; readonly warmup: number; readonly minSampleMs?: number }
): Promise<Array<Row>> => {
  const lastWarmupMs = cases.map(() => 0)
  for (let round = 0; round < warmup; round++) {
    for (let i = 0; i < cases.length; i++) {
      const start = performance.now()
      await cases[i]!.run()
      lastWarmupMs[i] = performance.now() - start
    }
  }
  const reps = lastWarmupMs.map((ms) => Math.max(1, Math.ceil(minSampleMs / ms)))
  const samples = cases.map((): Array<number> => [])
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (round + k) % cases.length
      const c = cases[i]!
      const start = performance.now()
      for (let r = 0; r < reps[i]!; r++) await c.run()
      samples[i]!.push(((performance.now() - start) * 1e6) / (c.ops * reps[i]!))
    }
  }
  return cases.map((c, i) => ({
    name: c.name,
    ops: c.ops,
    reps: reps[i]!,
    nsPerOp: median(samples[i]!),
    best: Math.min(...samples[i]!),
    samples: samples[i]!
  }))
}

/** What `row` adds over `baseline` per operation: median of the per-round differences. */
export const costOver = (row: Row, baseline: Row) =>
  median(row.samples.map((sample, i) => sample - baseline.samples[i]!))

export const find = (rows: ReadonlyArray<Row>, name: string) => {
  const row = rows.find((r) => r.name === name)
  if (row === undefined) throw new Error(`no benchmark row named ${name}`)
  return row
}

const repeat = <A, E, R>(n: number, once: Effect.Effect<A, E, R>): Effect.Effect<void, E, R> => {
  const loop = (i: number): Effect.Effect<void, E, R> => i === 0 ? Effect.void : Effect.flatMap(once, () => loop(i - 1))
  return loop(n)
}

/**
 * A case that runs `program` (which makes `ops` calls in sequence) as one
 * Effect program. A failure rejects, and so stops the benchmark: a loop that
 * gave up early would otherwise be timed as a fast one.
 */
const effectCase = (name: string, ops: number, program: Effect.Effect<unknown, unknown>): Case => ({
  name,
  ops,
  run: () => Effect.runPromise(program)
})

const succeed = Effect.succeed(1)
const policy = RetryPolicy.default
const equivalent = RetryPolicy.toSchedule(policy)

/** Runs an effect that fails `failures` times before it succeeds, wrapped by `wrap`, once. */
const flakyCall = <R>(failures: number, wrap: (self: Effect.Effect<number, Flaky>) => Effect.Effect<number, Flaky, R>) =>
  Effect.suspend(() => {
    let left = failures
    return wrap(Effect.suspend(() => (left-- > 0 ? Effect.fail(flakyError) : succeed)))
  })

interface Flaky {
  readonly isRetryable: true
}
const flakyError: Flaky = { isRetryable: true }

export const names = {
  bare: "bare effect",
  effectRetry: "Effect.retry(toSchedule(policy))",
  effectRecurs: "Effect.retry(Schedule.recurs(2))",
  retry: "Retry.retry(policy), no budget",
  retryTokenBucket: "Retry.retry(policy), RetryBudget.tokenBucket provided",
  retryRatio: "Retry.retry(policy), RetryBudget.ratio provided"
} as const

/**
 * Success-path cases, `n` calls per round. A budget is provided once around
 * the whole loop (`Effect.provide` of the layer), as an application provides
 * it once for many calls; building the layer is part of each round, which is
 * negligible over `n` calls.
 */
export const successCases = (n = 200_000): Array<Case> => {
  const retried = repeat(n, Retry.retry(succeed, policy))
  return [
    effectCase(names.bare, n, repeat(n, succeed)),
    effectCase(names.effectRetry, n, repeat(n, Effect.retry(succeed, equivalent))),
    effectCase(names.effectRecurs, n, repeat(n, Effect.retry(succeed, Schedule.recurs(2)))),
    effectCase(names.retry, n, retried),
    effectCase(names.retryTokenBucket, n, Effect.provide(retried, RetryBudget.tokenBucket())),
    effectCase(names.retryRatio, n, Effect.provide(retried, RetryBudget.ratio()))
  ]
}

/** A per-retry case: the calls it runs, and the same wrapper around a call that succeeds at once. */
export interface RetryCase {
  readonly flaky: Case
  readonly calls: number
  readonly failures: number
  /** The same wrapper (same options) around calls that succeed at once: the call's own setup cost. */
  readonly firstTry: Case
}

export const retryNames = {
  effectRecurs: "Effect.retry(Schedule.recurs(4))",
  effectZeroDelay: "Effect.retry(toSchedule(zero-delay policy))",
  retry: "Retry.retry(zero-delay policy)",
  retryRecurs: "Retry.retry(Schedule.recurs(4))",
  retryZeroDelaySchedule: "Retry.retry(toSchedule(zero-delay policy))"
} as const

/**
 * Per-retry cost with zero delays: calls that fail `failures` times then
 * succeed, under each retry combinator; `ops` counts retries. Retry.retry's
 * per-retry log line is filtered out by the caller's minimum log level, as a
 * production sink would not print to a terminal.
 */
export const retryCases = (calls = 20_000, failures = 4, firstTryCalls = 50_000): Array<RetryCase> => {
  const zeroDelays = RetryPolicy.make({ baseDelay: 0, jitter: "none", maxAttempts: failures + 1 })
  const zeroDelaySchedule = RetryPolicy.toSchedule(zeroDelays)
  const quiet = <A, E, R>(self: Effect.Effect<A, E, R>) => Logger.withMinimumLogLevel(self, LogLevel.Error)
  const make = (name: string, wrap: (self: Effect.Effect<number, Flaky>) => Effect.Effect<number, Flaky>): RetryCase => ({
    flaky: effectCase(name, calls * failures, quiet(repeat(calls, flakyCall(failures, wrap)))),
    calls,
    failures,
    firstTry: effectCase(`${name}, first try succeeds`, firstTryCalls, quiet(repeat(firstTryCalls, flakyCall(0, wrap))))
  })
  return [
    make(retryNames.effectRecurs, (self) => Effect.retry(self, Schedule.recurs(failures))),
    make(retryNames.effectZeroDelay, (self) => Effect.retry(self, zeroDelaySchedule)),
    make(retryNames.retry, (self) => Retry.retry(self, zeroDelays)),
    // Any Schedule under Retry.retry, against the same Schedule under Effect.retry.
    make(retryNames.retryRecurs, (self) => Retry.retry(self, Schedule.recurs(failures))),
    make(retryNames.retryZeroDelaySchedule, (self) => Retry.retry(self, zeroDelaySchedule))
  ]
}
