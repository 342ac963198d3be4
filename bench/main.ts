/**
 * `npm run bench`: prints every benchmark of this run, with the cost each case
 * adds over its own bare baseline, and the goal checks computed from these
 * figures. Speed is never asserted in tests. Method: see bench/core.ts.
 */
import { costOver, find, median, names, retryCases, retryNames, runRounds, successCases } from "./core.js"
import type { RetryCase, Row } from "./core.js"
import { cpus, loadavg } from "node:os"
import { httpThroughput, transientReference } from "./http.js"
import { redisFigures } from "./redis.js"
import { peerNames, peerRetryCases, peerRetryNames, peerSuccessCases } from "./peers.js"

const SUCCESS = { warmup: 2, rounds: 9 } as const
const RETRY = { warmup: 1, rounds: 5 } as const

const ns = (value: number) => `${value.toFixed(0)} ns`
const count = (value: number) => value.toLocaleString("en-US")
const verdict = (pass: boolean) => (pass ? "PASS" : "MISS")

const successTable = (title: string, rows: ReadonlyArray<Row>, baseline: Row) => {
  console.log(`  ${title}`)
  for (const row of rows) {
    const added = row === baseline ? "baseline" : `+${ns(costOver(row, baseline))}`.padStart(10)
    console.log(
      `    ${row.name.padEnd(82)} ${ns(row.nsPerOp).padStart(9)}  (best ${ns(row.best).padStart(9)})  ${added}`
    )
  }
}

/** The 1-minute load average next to the CPU count: other processes running at the same time slow every figure down. */
const load = () => `load average ${loadavg()[0]!.toFixed(2)} on ${cpus().length} CPUs`

const main = async () => {
  console.log(`node ${process.version}, ${process.platform} ${process.arch}, ${load()} at start`)

  // Success path: Effect and Promise cases interleaved in the same rounds.
  const effectN = 200_000
  const promiseN = 100_000
  const effectCases = successCases(effectN)
  const success = await runRounds([...effectCases, ...peerSuccessCases(promiseN)], SUCCESS)
  const effectRows = success.slice(0, effectCases.length)
  const peerRows = success.slice(effectCases.length)
  const bareEffect = find(success, names.bare)
  const bareAwait = find(success, peerNames.bare)
  console.log(
    `\nSuccess path, ns per call: median of ${SUCCESS.rounds} interleaved rounds after ${SUCCESS.warmup} warm-up rounds ` +
      `(fastest round in brackets), each sample at least 50 ms;\n` +
      `  + = cost added over its own bare baseline (median of per-round differences)`
  )
  successTable(`Effect: one Effect program of ${count(effectN)} sequential calls per round`, effectRows, bareEffect)
  successTable(`Promise libraries: async loop of ${count(promiseN)} sequential awaited calls per round`, peerRows, bareAwait)

  // Per retry with zero delays.
  const perRetry: Array<RetryCase> = [...retryCases(), ...peerRetryCases()]
  const retryRows = await runRounds(perRetry.flatMap((c) => [c.flaky, c.firstTry]), RETRY)
  const failures = perRetry[0]!.failures
  console.log(
    `\nPer retry with zero delays: calls that fail ${failures} times then succeed; median of ${RETRY.rounds} interleaved rounds after ${RETRY.warmup} warm-up round\n` +
      `  per retry = whole call / ${failures}; net = (whole call - same wrapper when the first try succeeds) / ${failures}, median of per-round values`
  )
  console.log(`    ${"".padEnd(70)} ${"calls/round".padStart(11)} ${"per retry".padStart(12)} ${"net".padStart(12)}`)
  const perRetryNs = new Map<string, number>()
  for (const c of perRetry) {
    const flaky = find(retryRows, c.flaky.name)
    const firstTry = find(retryRows, c.firstTry.name)
    const net = median(flaky.samples.map((perRetry, i) => perRetry - firstTry.samples[i]! / c.failures))
    perRetryNs.set(c.flaky.name, flaky.nsPerOp)
    console.log(
      `    ${c.flaky.name.padEnd(70)} ${count(c.calls).padStart(11)} ${ns(flaky.nsPerOp).padStart(12)} ${ns(net).padStart(12)}`
    )
  }
  const effectPerRetry = perRetryNs.get(retryNames.effectRecurs)!
  const retryPerRetry = perRetryNs.get(retryNames.retry)!
  console.log(
    `  Retry.retry / Effect.retry(recurs) per retry: ${(retryPerRetry / effectPerRetry).toFixed(3)}x; ` +
      `p-retry: ${ns(perRetryNs.get(peerRetryNames.pRetry)!)}, cockatiel: ${ns(perRetryNs.get(peerRetryNames.cockatiel)!)} ` +
      `(cockatiel sleeps on setTimeout(0) even for a zero backoff)`
  )

  // Goal checks, from the figures above.
  const effectRetry = find(success, names.effectRetry)
  const retry = find(success, names.retry)
  const cockatiel = find(success, peerNames.cockatiel)
  const cockatielCost = costOver(cockatiel, bareAwait)
  const cockatielBestCost = cockatiel.best - bareAwait.best
  console.log(`\nGoal checks (this run; verdict from the medians above, and in brackets from the fastest rounds)`)
  console.log(`  1. With a budget provided, Retry.retry costs at most 0.15x Effect.retry on the success path (ns per call):`)
  for (const name of [names.retryTokenBucket, names.retryRatio]) {
    const row = find(success, name)
    const ratio = row.nsPerOp / effectRetry.nsPerOp
    const bestRatio = row.best / effectRetry.best
    const addedRatio = costOver(row, bareEffect) / costOver(effectRetry, bareEffect)
    console.log(
      `     ${verdict(ratio <= 0.15)}  ${name}: ${ns(row.nsPerOp)} / ${ns(effectRetry.nsPerOp)} = ${ratio.toFixed(3)}x` +
        ` [${verdict(bestRatio <= 0.15)} ${bestRatio.toFixed(3)}x]; ratio of the costs added over bare: ${addedRatio.toFixed(3)}x`
    )
  }
  console.log(`  2. The cost Retry.retry adds over a bare effect is no more than what cockatiel adds over a bare await:`)
  for (const row of [retry, find(success, names.retryTokenBucket), find(success, names.retryRatio)]) {
    const cost = costOver(row, bareEffect)
    const bestCost = row.best - bareEffect.best
    console.log(
      `     ${verdict(cost <= cockatielCost)}  ${row.name}: +${ns(cost)} vs cockatiel +${ns(cockatielCost)} (${(cost / cockatielCost).toFixed(2)}x)` +
        ` [${verdict(bestCost <= cockatielBestCost)} +${ns(bestCost)} vs +${ns(cockatielBestCost)}]`
    )
  }
  console.log(`  3. Per retry, Retry.retry(policy) costs at most 0.7x Effect.retry(equivalent schedule):`)
  const perRetryGoal = (name: string, baseline: string, goal: number) => {
    const ratio = perRetryNs.get(name)! / perRetryNs.get(baseline)!
    console.log(`     ${verdict(ratio <= goal)}  ${name} / ${baseline}: ${ratio.toFixed(3)}x (goal <= ${goal}x)`)
  }
  perRetryGoal(retryNames.retry, retryNames.effectZeroDelay, 0.7)
  console.log(`  4. Per retry, Retry.retry(anySchedule) costs at most 1.0x Effect.retry(sameSchedule):`)
  perRetryGoal(retryNames.retryRecurs, retryNames.effectRecurs, 1.0)
  perRetryGoal(retryNames.retryZeroDelaySchedule, retryNames.effectZeroDelay, 1.0)
  console.log(`  (${load()} after the micro-benchmarks)`)

  const http = await httpThroughput()
  console.log(
    `\nHTTP on loopback (undici client), every request succeeds: ${http.processes} fresh processes, ${http.rounds} rounds each ` +
      `through the six orders of three clients, ${http.requests} requests per client per round, ${http.concurrency} at a time;\n` +
      `  ratios: median over all ${http.processes * http.rounds} rounds of the per-round ratio to the bare client (method: bench/http.ts)`
  )
  console.log(`  ${"bare client".padEnd(56)} ${http.bare.toFixed(0).padStart(8)} req/s`)
  console.log(`  ${"same client under HttpRetry.withRetry".padEnd(56)} ${http.retry.toFixed(0).padStart(8)} req/s`)
  console.log(`  control (the bare client run again) / bare: ${http.control.toFixed(3)}x (what the method reads when nothing differs)`)
  console.log(`  withRetry / bare, each process: ${http.perProcess.map((ratio) => `${ratio.toFixed(3)}x`).join(", ")}`)
  console.log(`  withRetry / bare: ${http.ratio.toFixed(3)}x (goal >= 0.97x): ${http.ratio >= 0.97 ? "PASS" : "MISS"}`)
  const reference = await transientReference()
  console.log(
    `  for reference, Effect's own HttpClient.retryTransient({ times: 2 }) / bare: ${reference.ratio.toFixed(3)}x ` +
      `(${reference.processes} more fresh processes, ${reference.rounds} rounds each alternating the two clients; ` +
      `each process: ${reference.perProcess.map((ratio) => `${ratio.toFixed(3)}x`).join(", ")})`
  )

  const redis = await redisFigures()
  console.log(`\nRedis on loopback (effect-retry/redis), commands from INFO commandstats`)
  if (redis.skipped !== undefined) console.log(`  skipped: ${redis.skipped}`)
  for (const line of redis.lines) console.log(line)
}

main()
