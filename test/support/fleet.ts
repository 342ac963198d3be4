/**
 * Runs a fleet of worker processes (test/support/fleetWorker.ts) for the
 * fleet tests and the bench. The worker is bundled once with esbuild (its
 * packages stay external, resolved from this repository's node_modules), so
 * that each fork starts in about a second instead of transpiling TypeScript
 * on its own. Every worker is killed at the end of a run, whatever happened.
 */
import { type ChildProcess, fork } from "node:child_process"
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { buildSync } from "esbuild"
import type { Job, Reply } from "./fleetWorker.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

export type Done = Extract<Reply, { kind: "done" }>

interface Worker {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly done: Promise<Done>
}

/** Bounded wait: a fleet that hangs fails its test instead of the suite. */
export const within = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    promise.then((a) => {
      clearTimeout(timer)
      resolve(a)
    }, (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })

export interface Fleet {
  /**
   * Starts one worker per job, waits until all are ready, says "go" to all at
   * once, runs `during` (if any) while they work, and returns their reports.
   */
  readonly run: (jobs: ReadonlyArray<Job>, during?: () => Promise<void>) => Promise<Array<Done>>
  readonly sleep: (ms: number) => Promise<void>
  /** Deletes the bundle. */
  readonly remove: () => void
}

export const bundleWorker = (): Fleet => {
  const dir = join(root, "node_modules", ".cache", "effect-retry-fleet", String(process.pid))
  mkdirSync(dir, { recursive: true })
  const outfile = join(dir, "worker.mjs")
  buildSync({
    entryPoints: [join(root, "test", "support", "fleetWorker.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile,
    logLevel: "warning"
  })

  const start = (job: Job): Worker => {
    const child = fork(outfile, [], { stdio: ["ignore", "ignore", "pipe", "ipc"] })
    let stderr = ""
    child.stderr?.on("data", (data: Buffer) => void (stderr += data.toString()))
    let onReady: () => void = () => {}
    const ready = new Promise<void>((resolve) => (onReady = resolve))
    const done = new Promise<Done>((resolve, reject) => {
      child.on("message", (reply: Reply) => {
        if (reply.kind === "ready") onReady()
        else if (reply.kind === "done") resolve(reply)
        else reject(new Error(`worker failed: ${reply.message}\n${stderr}`))
      })
      child.on("exit", (code) => reject(new Error(`worker exited (${code}) before reporting\n${stderr}`)))
    })
    done.catch(() => {})
    child.send(job)
    return { child, ready, done }
  }

  const run = async (jobs: ReadonlyArray<Job>, during?: () => Promise<void>): Promise<Array<Done>> => {
    const workers = jobs.map(start)
    try {
      await within(Promise.all(workers.map((w) => w.ready)), 60_000, "workers starting")
      for (const worker of workers) worker.child.send("go")
      if (during !== undefined) await during()
      return await within(Promise.all(workers.map((w) => w.done)), 90_000, "workers finishing")
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill("SIGKILL")
    }
  }

  return {
    run,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}
