/**
 * The simulator of `npm run simulate` (cli/src/simulation.ts), at small sizes
 * so that the file runs in a few seconds.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { RetryPolicy } from "effect-retry"
import {
  allStrategies,
  deviationPercent,
  published,
  studyStrategies,
  contentionJson,
  contentionRun,
  resolveOptions,
  runAmplification,
  runContention,
  runFleet,
  type SimulationOptions,
  writeReport
} from "../src/simulation.js"

const small: Partial<SimulationOptions> = { clients: 20, runs: 2 }

const rowOf = (rows: ReadonlyArray<{ readonly strategy: string }>, strategy: string) => {
  const row = rows.find((candidate) => candidate.strategy === strategy)
  if (row === undefined) throw new Error(`no row for ${strategy}`)
  return row as { readonly strategy: string; readonly calls: number; readonly completionMs: number }
}

describe("contention", () => {
  it.effect("is deterministic: the same seed gives the same numbers, another seed others", () =>
    Effect.gen(function*() {
      const first = yield* runContention(small)
      const second = yield* runContention(small)
      const other = yield* runContention({ ...small, seed: 7 })
      expect(second.rows).toEqual(first.rows)
      expect(other.rows).not.toEqual(first.rows)
    }))

  it.effect("every client of every strategy finishes", () =>
    Effect.gen(function*() {
      const options = resolveOptions(small)
      for (const strategy of allStrategies) {
        const outcome = yield* contentionRun(strategy, options, 0)
        expect(outcome.finished, strategy).toBe(options.clients)
      }
      const report = yield* runContention(small)
      expect(report.rows.map((row) => row.unfinished)).toEqual(allStrategies.map(() => 0))
    }))

  it.effect("no backoff makes more calls than full jitter; jitter finishes before exponential without jitter", () =>
    Effect.gen(function*() {
      const { rows } = yield* runContention({ ...small, strategies: ["none", "exponential", "equal", "full", "decorrelated"] })
      expect(rowOf(rows, "none").calls).toBeGreaterThan(rowOf(rows, "full").calls)
      for (const jittered of ["equal", "full", "decorrelated"]) {
        expect(rowOf(rows, jittered).completionMs, jittered).toBeLessThan(rowOf(rows, "exponential").completionMs)
      }
    }))

  it.effect("Effect's TestClock gives the same numbers as the virtual clock", () =>
    Effect.gen(function*() {
      const options: Partial<SimulationOptions> = { clients: 6, runs: 1, strategies: ["full", "full+ratio"] }
      const virtual = yield* runContention(options)
      const testClock = yield* runContention({ ...options, clock: "testClock" })
      expect(testClock.rows).toEqual(virtual.rows)
    }))
})

describe("the default set-up is the study's", () => {
  it("latency is |N(10 ms, 2 ms)| by default, uniform 10 ± 2 ms on request", () => {
    expect(resolveOptions().latencyShape).toBe("normal")
    expect(resolveOptions({ latencyShape: "uniform" }).latencyShape).toBe("uniform")
  })

  it.effect("contention.json's five study rows reproduce the published table: calls within 3 %, times within 10 %", () =>
    Effect.gen(function*() {
      const report = yield* runContention({ strategies: studyStrategies })
      const rows = contentionJson(report)
      expect(rows.map((row) => row.strategy)).toEqual(["none", "exponential", "equal", "full", "decorrelated"])
      for (const row of rows) {
        const figures = published[row.strategy]!
        expect(Math.abs(deviationPercent(row.calls, figures.calls)), `${row.strategy} calls ${row.calls}`).toBeLessThanOrEqual(3)
        expect(
          Math.abs(deviationPercent(row.completionMs, figures.completionMs)),
          `${row.strategy} time ${row.completionMs}`
        ).toBeLessThanOrEqual(10)
      }
    }), 300_000)
})

describe("a policy of the user's", () => {
  it.effect("adds a contention row with its backoff; a client that runs out of attempts gives up", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.make({ maxAttempts: 2, baseDelay: "5 millis", jitter: "full" })
      const { rows } = yield* runContention({ ...small, strategies: ["full", "policy"], policy })
      const own = rows.find((row) => row.strategy === "policy")!
      // Two attempts each: at most 2 calls per client, and most of the 20 contending clients cannot win in two.
      expect(own.calls).toBeLessThanOrEqual(2 * 20)
      expect(own.unfinished).toBeGreaterThan(0)
      expect(rows.find((row) => row.strategy === "full")!.unfinished).toBe(0)
    }))

  it.effect("sets the amplification callers' policy", () =>
    Effect.gen(function*() {
      const five = RetryPolicy.make({ maxAttempts: 5 })
      const { rows } = yield* runAmplification({ callers: 10, outageMillis: 3000, budgets: ["none"], policy: five })
      expect(rows[0]!.amplification).toBeCloseTo(5, 5)
    }))
})

describe("amplification", () => {
  const options: Partial<SimulationOptions> = { callers: 40, outageMillis: 10_000 }

  it.effect("is about maxAttempts x without a budget, and lower with a token bucket or a ratio budget", () =>
    Effect.gen(function*() {
      const { rows } = yield* runAmplification(options)
      const [none, tokenBucket, ratio] = rows
      expect(rows.map((row) => row.budget)).toEqual(["none", "tokenBucket", "ratio"])
      expect(none!.calls).toBe(400)
      expect(none!.amplification).toBeCloseTo(3, 5)
      expect(tokenBucket!.amplification).toBeLessThan(none!.amplification)
      expect(ratio!.amplification).toBeLessThan(2)
      expect(ratio!.amplification).toBeGreaterThan(1)
    }))

  it.effect("is deterministic, and the same under TestClock", () =>
    Effect.gen(function*() {
      const tiny: Partial<SimulationOptions> = { callers: 4, outageMillis: 3000, budgets: ["ratio"] }
      const first = yield* runAmplification(tiny)
      expect(yield* runAmplification(tiny)).toEqual(first)
      expect((yield* runAmplification({ ...tiny, clock: "testClock" })).rows).toEqual(first.rows)
    }))
})

describe("fleet", () => {
  it.effect("a budget per process lets the fleet retry up to processes x what one shared budget allows", () =>
    Effect.gen(function*() {
      // 40 callers in 4 processes for 10 s: 400 calls, up to 800 retries wanted.
      const { rows } = yield* runFleet({ callers: 40, outageMillis: 10_000, processes: 4 })
      expect(rows.map((row) => [row.budget, row.sharing])).toEqual([
        ["none", "per process"],
        ["tokenBucket", "per process"],
        ["tokenBucket", "shared"],
        ["ratio", "per process"],
        ["ratio", "shared"]
      ])
      const retries = rows.map((row) => row.requests - row.calls)
      expect(retries[0]).toBe(800)
      // The token bucket's 500 tokens at 5 per retry: 100 retries shared, 100 in each process (capped by demand).
      expect(retries[2]).toBe(100)
      expect(retries[1]).toBe(400)
      // The ratio budget's reserve (10 per second over 10 s) counts once for the fleet, once per process otherwise.
      expect(retries[4]!).toBeLessThan(retries[3]!)
      const shared = yield* runAmplification({ callers: 40, outageMillis: 10_000, budgets: ["tokenBucket", "ratio"] })
      expect(rows[2]!.requests).toBe(shared.rows[0]!.requests)
    }))
})

describe("report files", () => {
  it.effect("contention.json is an array of { strategy, calls, completionMs } with the exact strategy names", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "effect-retry-simulation-"))
      try {
        const results = {
          contention: yield* runContention({ clients: 5, runs: 1 }),
          amplification: yield* runAmplification({ callers: 2, outageMillis: 2000 })
        }
        const written = yield* writeReport(dir, results)
        expect(written.map((path) => path.slice(dir.length + 1))).toEqual([
          "contention.json",
          "amplification.json",
          "contention.svg"
        ])
        const contention: Array<Record<string, unknown>> = JSON.parse(readFileSync(join(dir, "contention.json"), "utf8"))
        expect(contention.map((row) => row.strategy)).toEqual([
          "none",
          "exponential",
          "equal",
          "full",
          "decorrelated",
          "full+tokenBucket",
          "full+ratio"
        ])
        for (const row of contention) {
          expect(Object.keys(row)).toEqual(["strategy", "calls", "completionMs"])
          expect(typeof row.calls).toBe("number")
          expect(typeof row.completionMs).toBe("number")
        }
        const amplification: Array<Record<string, unknown>> = JSON.parse(
          readFileSync(join(dir, "amplification.json"), "utf8")
        )
        expect(amplification.map((row) => row.budget)).toEqual(["none", "tokenBucket", "ratio"])
        const svg = readFileSync(join(dir, "contention.svg"), "utf8")
        expect(svg.startsWith("<svg")).toBe(true)
        expect(svg.trimEnd().endsWith("</svg>")).toBe(true)
        for (const strategy of allStrategies) expect(svg).toContain(`>${strategy}</text>`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))
})
