/**
 * A fault-injecting loopback server for the load test: a raw `node:http`
 * server (direct control over sockets) that answers each attempt of each call
 * according to a seeded, reproducible fault plan, and counts what it sees.
 *
 * The server runs in a worker thread. In the test's own thread, under a few
 * hundred busy keep-alive connections, the listening socket was served so
 * rarely that new connections (the faults destroy one in five) waited up to
 * seconds to be accepted, and attempts the plan meant to succeed timed out.
 * A thread of its own is also closer to the real thing: the server does not
 * share the client's event loop.
 */
import { Worker } from "node:worker_threads"

/** mulberry32: a small seeded PRNG with 32 bits of state, uniform in [0, 1). */
export const mulberry32 = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What the server does with one attempt. */
export const faults = [
  "ok", // 200 with a small JSON body naming the call
  "status-503", // 503, no Retry-After
  "retry-after", // 503 with retry-after-ms
  "reset", // the socket is reset before anything is written
  "cut", // headers and part of the body, then the socket is destroyed
  "hang" // never answers; the client's attemptTimeout ends it
] as const

export type Fault = typeof faults[number]

export type Plan = (call: number, attempt: number) => Fault

/**
 * A fault plan: attempt `attempt` (0-based) of call `call` fails with
 * probability `rate`, the failing attempts spread evenly over the five faults.
 * The draw is a function of (seed, call, attempt) alone, not of arrival order,
 * so a run under any interleaving meets the same faults and the expected
 * outcome of each call can be computed in advance.
 */
export const makePlan = (seed: number, rate: number): Plan => (call, attempt) => {
  const draw = mulberry32(seed ^ Math.imul(call + 1, 0x9e3779b1) ^ Math.imul(attempt + 1, 0x85ebca6b))()
  if (draw >= rate) return "ok"
  const kinds = faults.length - 1
  return faults[1 + Math.min(kinds - 1, Math.floor((draw / rate) * kinds))]!
}

export interface FaultStats {
  readonly hits: number
  /** Requests whose response has neither finished nor lost its socket. */
  readonly inFlight: number
  readonly maxInFlight: number
  /** Requests without a usable call id header (answered 400). */
  readonly unidentified: number
  readonly faults: Readonly<Record<Fault, number>>
}

/** One request as the server saw it: the attempt header it carried and the fault it met. */
export interface Hit {
  readonly header: string | undefined
  readonly fault: Fault
}

export interface Snapshot {
  readonly stats: FaultStats
  /** Per call id, its requests in arrival order. */
  readonly attempts: ReadonlyMap<number, ReadonlyArray<Hit>>
}

export interface FaultServer {
  readonly url: string
  /** Zeroes the counters (not the per-call record) between batches. */
  readonly resetStats: () => Promise<void>
  readonly snapshot: () => Promise<Snapshot>
  /** Open connections as the server's `getConnections` counts them, and requests in flight. */
  readonly connections: () => Promise<{ readonly open: number; readonly inFlight: number }>
  /** Stops listening, destroys every connection (hung ones included) and ends the thread. Idempotent. */
  readonly close: () => Promise<void>
  /** Errors the thread reported (uncaught exceptions in the server). */
  readonly errors: ReadonlyArray<unknown>
}

export interface FaultServerOptions {
  readonly plan: Plan
  /** Call ids 0 .. calls − 1 are planned. */
  readonly calls: number
  /** Attempts planned per call; later ones are answered "ok". */
  readonly attemptsPerCall: number
  /** The header that carries the client's 0-based retry count. */
  readonly attemptHeader: string
  /** The header that carries the call id. */
  readonly callHeader: string
  /** Milliseconds of Retry-After (retry-after-ms) on "retry-after" faults. */
  readonly retryAfterMillis: number
}

// Plain JavaScript, run with `eval: true`: the thread gets the plan as a table
// of fault indices, so the PRNG lives in one place (above).
const serverSource = `
const http = require("node:http")
const { parentPort, workerData } = require("node:worker_threads")
const { faults, table, attemptsPerCall, attemptHeader, callHeader, retryAfterMillis } = workerData
const emptyFaults = () => Object.fromEntries(faults.map((fault) => [fault, 0]))
let stats = { hits: 0, inFlight: 0, maxInFlight: 0, unidentified: 0, faults: emptyFaults() }
const attempts = new Map()
const server = http.createServer((request, response) => {
  stats.hits++
  stats.inFlight++
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
  // "close" fires once the response has finished or its socket is gone, hangs included.
  response.once("close", () => void stats.inFlight--)
  request.resume()
  const raw = request.headers[callHeader]
  const call = typeof raw === "string" && /^[0-9]+$/.test(raw) ? Number(raw) : -1
  if (call < 0 || call * attemptsPerCall >= table.length) {
    stats.unidentified++
    response.writeHead(400, { "content-type": "text/plain" }).end("missing call id")
    return
  }
  let seen = attempts.get(call)
  if (seen === undefined) attempts.set(call, seen = [])
  // The fault is keyed by the attempt the client says this is, so that an
  // attempt that timed out before it reached the server does not shift the
  // plan of the next; without a usable header, by arrival order.
  const header = typeof request.headers[attemptHeader] === "string" ? request.headers[attemptHeader] : undefined
  const attempt = header !== undefined && /^[0-9]+$/.test(header) ? Number(header) : seen.length
  const fault = attempt < attemptsPerCall ? faults[table[call * attemptsPerCall + attempt]] : "ok"
  seen.push({ header, fault })
  stats.faults[fault]++
  switch (fault) {
    case "ok": {
      const body = JSON.stringify({ call, attempt })
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      response.end(body)
      return
    }
    case "status-503":
      response.writeHead(503, { "content-type": "text/plain" }).end("unavailable")
      return
    case "retry-after":
      response.writeHead(503, { "content-type": "text/plain", "retry-after-ms": String(retryAfterMillis) })
        .end("unavailable, retry soon")
      return
    case "reset":
      request.socket.resetAndDestroy()
      return
    case "cut":
      response.writeHead(200, { "content-type": "application/json", "content-length": "1000" })
      response.write("{\\"partial\\":", () => response.socket && response.socket.destroy())
      return
    case "hang":
      return
  }
})
// Idle keep-alive sockets must outlive the run: a socket the server closes
// while the client picks it up would fail an attempt the plan did not fail.
server.keepAliveTimeout = 60000
const reply = (id, value) => parentPort.postMessage({ id, value })
parentPort.on("message", ({ id, type }) => {
  switch (type) {
    case "reset":
      stats = { hits: 0, inFlight: stats.inFlight, maxInFlight: stats.inFlight, unidentified: 0, faults: emptyFaults() }
      return reply(id, null)
    case "snapshot":
      return reply(id, { stats, attempts: [...attempts] })
    case "connections":
      return server.getConnections((error, count) => reply(id, { open: error ? -1 : count, inFlight: stats.inFlight }))
    case "close":
      server.close(() => {
        reply(id, null)
        parentPort.close()
      })
      server.closeAllConnections()
      return
  }
})
server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () =>
  parentPort.postMessage({ id: 0, value: server.address().port }))
`

const delay = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis).unref())

/** Starts a fault server on 127.0.0.1, port 0, in a worker thread. */
export const startFaultServer = (options: FaultServerOptions): Promise<FaultServer> => {
  const table = new Uint8Array(options.calls * options.attemptsPerCall)
  for (let call = 0; call < options.calls; call++) {
    for (let attempt = 0; attempt < options.attemptsPerCall; attempt++) {
      table[call * options.attemptsPerCall + attempt] = faults.indexOf(options.plan(call, attempt))
    }
  }
  const worker = new Worker(serverSource, {
    eval: true,
    workerData: {
      faults: [...faults],
      table,
      attemptsPerCall: options.attemptsPerCall,
      attemptHeader: options.attemptHeader.toLowerCase(),
      callHeader: options.callHeader.toLowerCase(),
      retryAfterMillis: options.retryAfterMillis
    }
  })
  const errors: Array<unknown> = []
  const pending = new Map<number, (value: any) => void>()
  let nextId = 1
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()))
  worker.on("error", (error) => void errors.push(error))
  worker.on("message", ({ id, value }: { id: number; value: unknown }) => {
    const resolve = pending.get(id)
    pending.delete(id)
    resolve?.(value)
  })
  const ask = <A>(type: string): Promise<A> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, resolve)
      worker.postMessage({ id, type })
      void exited.then(() => pending.delete(id) && reject(new Error(`fault server thread exited before answering ${type}`)))
    })
  let closing: Promise<void> | undefined
  return new Promise((resolve, reject) => {
    worker.once("error", reject)
    pending.set(0, (port: number) =>
      resolve({
        url: `http://127.0.0.1:${port}`,
        resetStats: () => ask("reset"),
        snapshot: () =>
          ask<{ stats: FaultStats; attempts: Array<[number, Array<Hit>]> }>("snapshot").then(({ attempts, stats }) => ({
            stats,
            attempts: new Map(attempts)
          })),
        connections: () => ask("connections"),
        // A thread that does not answer within 5 s is terminated.
        close: () =>
          closing ??= Promise.race([ask<void>("close").catch(() => undefined), delay(5_000)])
            .then(() => worker.terminate())
            .then(() => exited),
        errors
      }))
  })
}
