/**
 * A fleet of real processes (`child_process.fork`, each with its own Effect
 * runtime) sharing budgets through a real redis-server, against a loopback
 * backend in full outage (every answer a 503). Everything listens on
 * 127.0.0.1; every process started here is stopped here; every wait is bounded.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { performance } from "node:perf_hooks"
import type { Redis } from "ioredis"
import { afterAll, beforeAll, expect, it, vi } from "vitest"
import { bundleWorker, type Fleet } from "./support/fleet.js"
import type { CallReport, Job } from "./support/fleetWorker.js"
import { describeRedis, type RedisServer, startRedis } from "./support/redis.js"
import { observer } from "./support/redisStats.js"

let redis: RedisServer
let watch: Redis
let fleet: Fleet
let backend: Server
let base = ""
/** Requests the backend received, per path. */
const hits = new Map<string, number>()

const hitsOf = (path: string) => hits.get(path) ?? 0

// Forking a fleet takes a few seconds of CPU per process on a busy machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 })

interface Listening {
  readonly url: string
  /** Arrival times (wall-clock ms) of every request. */
  readonly arrivals: Array<number>
  /** When (wall-clock ms) the answer to the first request was sent. */
  readonly answeredFirstAt: () => number
  readonly close: () => Promise<void>
}

/** A loopback server answering the n-th request as `answer(n)` says. */
const listen = (answer: (arrival: number) => { status: number; headers?: Record<string, string> }): Promise<Listening> =>
  new Promise((resolve) => {
    const arrivals: Array<number> = []
    let firstAnswer = Number.NaN
    const server = createServer((_, response) => {
      arrivals.push(performance.timeOrigin + performance.now())
      const { headers, status } = answer(arrivals.length)
      response.writeHead(status, { "content-type": "text/plain", ...headers }).end("x")
      if (arrivals.length === 1) firstAnswer = performance.timeOrigin + performance.now()
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/thing`,
        arrivals,
        answeredFirstAt: () => firstAnswer,
        close: () => new Promise((done) => server.close(() => done()))
      }))
  })

let prefixes = 0
const freshPrefix = () => `fleet${process.pid}-${++prefixes}:`

describeRedis("a fleet of processes sharing budgets through Redis", () => {
  beforeAll(async () => {
    fleet = bundleWorker()
    redis = await startRedis()
    watch = observer(redis.port)
    backend = createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0]!
      hits.set(path, hitsOf(path) + 1)
      response.writeHead(503, { "content-type": "text/plain" }).end("down")
    })
    await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve))
    base = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    watch?.disconnect()
    await new Promise((resolve) => backend?.close(resolve))
    await redis?.stop()
    fleet?.remove()
  })

  it("8 processes in an outage: a shared token bucket grants exactly capacity / cost retries in all, per-process buckets 8 times that; a shared ratio budget stays within its fleet-wide bound", async () => {
    const prefix = freshPrefix()
    const workers = 8
    const calls = 20
    const maxAttempts = 5
    const token = { capacity: 100, retryCost: 5 }
    const ratio = { percent: 10, minPerSecond: 1 } // window 10 s: a reserve of 10 retries
    const job: Job = {
      kind: "http",
      redisUrl: redis.url,
      prefix,
      redisTimeoutMs: 5000,
      calls,
      concurrency: 4,
      maxAttempts,
      phases: [
        { url: `${base}/shared-token`, budget: { kind: "shared-token", name: "token", ...token } },
        { url: `${base}/local-token`, budget: { kind: "local-token", ...token } },
        { url: `${base}/shared-ratio`, budget: { kind: "shared-ratio", name: "ratio", ...ratio } },
        { url: `${base}/local-ratio`, budget: { kind: "local-ratio", ...ratio } }
      ]
    }
    const replies = await fleet.run(Array.from({ length: workers }, () => job))
    const firstAttempts = workers * calls
    const retries = (path: string) => hitsOf(path) - firstAttempts
    // The demand: every call would take maxAttempts - 1 retries.
    expect(firstAttempts * (maxAttempts - 1)).toBeGreaterThan(8 * (token.capacity / token.retryCost))

    // Exact to the token: nothing is refunded in an outage.
    expect(retries("/shared-token")).toBe(token.capacity / token.retryCost)
    expect(retries("/local-token")).toBe(workers * (token.capacity / token.retryCost))
    expect(await watch.get(`${prefix}budget:token`)).toBe("0")

    const sharedBound = Math.floor((firstAttempts * ratio.percent) / 100 + ratio.minPerSecond * 10)
    expect(retries("/shared-ratio")).toBeLessThanOrEqual(sharedBound)
    expect(retries("/shared-ratio")).toBeGreaterThanOrEqual(ratio.minPerSecond * 10)
    // Each process's own reserve of 10 is granted at least: 8 times the shared one.
    expect(retries("/local-ratio")).toBeGreaterThanOrEqual(workers * ratio.minPerSecond * 10)

    for (const reply of replies) {
      expect(reply.unhandled).toBe(0)
      expect(reply.calls.filter((c) => c.outcome === "defect")).toEqual([])
    }
    console.log(
      `fleet of ${workers}: retries shared token ${retries("/shared-token")} vs per-process ${retries("/local-token")}; ` +
        `shared ratio ${retries("/shared-ratio")} (bound ${sharedBound}) vs per-process ${retries("/local-ratio")}`
    )
  })

  it("one worker gets 429 Retry-After: 2: no worker of the fleet sends to that origin for 2 s; another origin is unaffected", async () => {
    const prefix = freshPrefix()
    const limited = await listen((arrival) => (arrival === 1 ? { status: 429, headers: { "retry-after": "2" } } : { status: 200 }))
    const free = await listen(() => ({ status: 200 }))
    try {
      const job: Job = {
        kind: "cooldown",
        redisUrl: redis.url,
        prefix,
        redisTimeoutMs: 2000,
        urls: [limited.url, free.url],
        // Long enough that the cool-down ends well before the run does, even when the processes start slowly.
        durationMs: 5000,
        spacingMs: 50
      }
      const replies = await fleet.run(Array.from({ length: 4 }, () => job))
      const limitedOrigin = new URL(limited.url).origin
      const freeOrigin = new URL(free.url).origin
      const t0 = limited.answeredFirstAt() // wall clock
      const ends = t0 + 2000
      for (const reply of replies) {
        expect(reply.unhandled).toBe(0)
        expect(reply.calls.filter((c) => c.outcome !== "success")).toEqual([])
        // Every process learned of the cool-down while it was running, by pub/sub...
        expect(reply.learnedAt).toBeDefined()
        expect(reply.learnedAt!).toBeLessThan(ends)
        // ...and from then on sent nothing to that origin until it was over.
        // Requests sent before it learned may still arrive, so this counts
        // sends, not arrivals; 50 ms at each end for an attempt that had
        // already passed its check when the news came, and for two processes' clocks.
        const sends = (reply.sends ?? []).filter((send) => send.origin === limitedOrigin)
        expect(sends.filter((send) => send.at > reply.learnedAt! + 50 && send.at < ends - 50)).toEqual([])
        // The other origin was called all along.
        const other = (reply.sends ?? []).filter((send) => send.origin === freeOrigin && send.at > t0 && send.at < ends)
        expect(other.length).toBeGreaterThan(5)
      }
      expect(limited.arrivals.filter((at) => at >= ends - 50).length).toBeGreaterThan(0)
      const learned = replies.map((reply) => Math.round(reply.learnedAt! - t0)).sort((x, y) => x - y)
      const inWindow = limited.arrivals.filter((at) => at > Math.max(...replies.map((r) => r.learnedAt!)) + 100 && at < ends - 50)
      console.log(
        `cool-down: the 4 processes saw it ${learned.map((ms) => `+${ms} ms`).join(", ")} after the 429 was sent; ` +
          `requests to that origin arriving between +${Math.round(Math.max(...learned) + 100)} ms and +1950 ms: ${inWindow.length}; ` +
          `first after: +${Math.round(Math.min(...limited.arrivals.filter((at) => at >= ends - 50)) - t0)} ms`
      )
    } finally {
      await limited.close()
      await free.close()
    }
  })

  it("1,000 fibers in each of 4 processes withdraw at once: no token granted twice, none lost", async () => {
    const prefix = freshPrefix()
    const capacity = 2500
    const job: Job = { kind: "burst", redisUrl: redis.url, prefix, fibers: 1000, capacity, retryCost: 1 }
    const replies = await fleet.run(Array.from({ length: 4 }, () => job))
    const granted = replies.reduce((sum, reply) => sum + (reply.granted ?? 0), 0)
    expect(granted).toBe(capacity)
    expect(await watch.get(`${prefix}budget:burst`)).toBe("0")
    for (const reply of replies) expect(reply.unhandled).toBe(0)

    // A cost that does not divide the capacity: the remainder stays in the bucket.
    const prefix2 = freshPrefix()
    const replies2 = await fleet.run(Array.from({ length: 4 }, () => ({ ...job, prefix: prefix2, retryCost: 3 })))
    const granted2 = replies2.reduce((sum, reply) => sum + (reply.granted ?? 0), 0)
    expect(granted2).toBe(Math.floor(capacity / 3))
    expect(Number(await watch.get(`${prefix2}budget:burst`))).toBe(capacity - 3 * granted2)
  })

  it("SIGKILL of redis-server mid-run: under every mode each call ends in bounded time with no defect or unhandled rejection, and the shared budget works again after a restart", async () => {
    const prefix = freshPrefix()
    const modes = ["allow", "deny", "local"] as const
    const jobOf = (mode: typeof modes[number]): Job => ({
      kind: "http",
      redisUrl: redis.url,
      prefix,
      redisTimeoutMs: 300,
      calls: 48,
      concurrency: 4,
      maxAttempts: 3,
      spacingMs: 100,
      phases: [{
        url: `${base}/fault-${mode}`,
        budget: { kind: "shared-token", name: `fault-${mode}`, capacity: 100000, retryCost: 1, mode }
      }]
    })
    let restarted = false
    const replies = await fleet.run(modes.flatMap((mode) => [jobOf(mode), jobOf(mode)]), async () => {
      await fleet.sleep(150)
      await redis.kill("SIGKILL")
      await fleet.sleep(300)
      await redis.start()
      restarted = true
    })
    expect(restarted).toBe(true)
    const all: Array<CallReport> = replies.flatMap((reply) => reply.calls)
    expect(all).toHaveLength(6 * 48)
    for (const reply of replies) expect(reply.unhandled).toBe(0)
    // Every call ends: with the backend's last 503 (a success for withRetry) or,
    // on a starved machine, an attempt timeout; never a defect or an interruption.
    expect(all.filter((call) => call.outcome === "defect" || call.outcome === "interrupted")).toEqual([])
    expect(all.filter((call) => call.outcome === "failure" && call.error !== "TimeoutException")).toEqual([])
    // Bounded: three attempts of at most 2 s each, two waits of at most the 300 ms Redis limit.
    expect(Math.max(...all.map((call) => call.ms))).toBeLessThan(3 * 2000 + 2 * 300 + 2000)
    // The restarted Redis holds nothing from before; a key exists only if retries after the restart used it.
    for (const mode of modes) {
      const left = await watch.get(`${prefix}budget:fault-${mode}`)
      expect(left, `budget of mode ${mode} after the restart`).not.toBeNull()
      expect(Number(left)).toBeLessThan(100000)
    }
    // Under "allow", retries went on; under "deny", some calls were refused while Redis was away.
    expect(hitsOf("/fault-allow")).toBeGreaterThan(hitsOf("/fault-deny"))
    expect(hitsOf("/fault-deny")).toBeLessThan(2 * 48 * 3)
    expect(hitsOf("/fault-allow")).toBeLessThanOrEqual(2 * 48 * 3)
  })
})
