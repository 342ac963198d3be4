/**
 * Peer benchmarks: p-retry 9 and cockatiel 4, measured the way they are used,
 * as an async loop of sequential awaited calls. Each case has its own loop
 * (no shared call site), so that V8 optimises each as a user's code would be.
 * Cases go through the same harness as the Effect cases (see core.ts).
 */
import { ConstantBackoff, handleAll, retry } from "cockatiel"
import pRetry from "p-retry"
import type { Case, RetryCase } from "./core.js"

const fn = async () => 1

export const peerNames = {
  bare: "bare await fn()",
  pRetry: "pRetry(fn)",
  pRetryOptions: "pRetry(fn, { retries: 2, minTimeout: 0 })",
  cockatiel: "cockatiel retry(handleAll, { maxAttempts: 2, ConstantBackoff(0) }).execute(fn)"
} as const

/** Success-path cases, `n` sequential awaited calls per round. */
export const peerSuccessCases = (n = 100_000): Array<Case> => {
  // Built once, outside the loop, as users do.
  const policy = retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(0) })
  return [
    {
      name: peerNames.bare,
      ops: n,
      run: async () => {
        for (let i = 0; i < n; i++) await fn()
      }
    },
    {
      name: peerNames.pRetry,
      ops: n,
      run: async () => {
        for (let i = 0; i < n; i++) await pRetry(fn)
      }
    },
    {
      name: peerNames.pRetryOptions,
      ops: n,
      run: async () => {
        for (let i = 0; i < n; i++) await pRetry(fn, { retries: 2, minTimeout: 0 })
      }
    },
    {
      name: peerNames.cockatiel,
      ops: n,
      run: async () => {
        for (let i = 0; i < n; i++) await policy.execute(fn)
      }
    }
  ]
}

export const peerRetryNames = {
  pRetry: "pRetry(fn, { retries: 4, minTimeout: 0, factor: 1 })",
  cockatiel: "cockatiel retry(handleAll, { maxAttempts: 4, ConstantBackoff(0) })"
} as const

/**
 * Per-retry cases: calls that fail `failures` times then succeed. p-retry
 * retries only `Error` instances, so the failure is one preallocated `Error`
 * (no stack captured per failure, like the Effect cases' preallocated value).
 * cockatiel waits on a `setTimeout` even for a zero backoff (at least 1 ms in
 * Node), so it runs far fewer calls per round (`cockatielCalls`).
 */
export const peerRetryCases = (
  calls = 20_000,
  failures = 4,
  cockatielCalls = 250,
  firstTryCalls = 50_000
): Array<RetryCase> => {
  const failure = new Error("flaky")
  const policy = retry(handleAll, { maxAttempts: failures, backoff: new ConstantBackoff(0) })
  const pRetryLoop = (name: string, n: number, failing: number): Case => ({
    name,
    ops: failing === 0 ? n : n * failing,
    run: async () => {
      for (let i = 0; i < n; i++) {
        let left = failing
        await pRetry(async () => {
          if (left-- > 0) throw failure
          return 1
        }, { retries: failures, minTimeout: 0, factor: 1 })
      }
    }
  })
  const cockatielLoop = (name: string, n: number, failing: number): Case => ({
    name,
    ops: failing === 0 ? n : n * failing,
    run: async () => {
      for (let i = 0; i < n; i++) {
        let left = failing
        await policy.execute(async () => {
          if (left-- > 0) throw failure
          return 1
        })
      }
    }
  })
  return [
    {
      flaky: pRetryLoop(peerRetryNames.pRetry, calls, failures),
      calls,
      failures,
      firstTry: pRetryLoop(`${peerRetryNames.pRetry}, first try succeeds`, firstTryCalls, 0)
    },
    {
      flaky: cockatielLoop(peerRetryNames.cockatiel, cockatielCalls, failures),
      calls: cockatielCalls,
      failures,
      firstTry: cockatielLoop(`${peerRetryNames.cockatiel}, first try succeeds`, firstTryCalls, 0)
    }
  ]
}
