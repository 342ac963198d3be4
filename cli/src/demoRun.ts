/**
 * The body of `effect-retry demo`, loaded only when the command runs (the
 * HTTP server and client modules take most of the CLI's start-up time): an
 * embedded server on the loopback interface misbehaves as the scenario says; a
 * client wrapped with `HttpRetry.withRetry` calls it a few times while a status
 * line shows each wait; a table per call sums up what happened.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Terminal from "@effect/platform/Terminal"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import { createServer, STATUS_CODES } from "node:http"
import { RetryEvent, RetryLog, type RetryPolicy } from "effect-retry"
import { HttpRetry } from "effect-retry/http"
import type { Scenario } from "./demo.js"
import * as StatusLine from "./statusLine.js"
import { formatMillis, renderTable } from "./table.js"

// ---------------------------------------------------------------------------
// Scenarios: what the server does on each hit of each call

/** What the server does with one request. */
type Fault =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Status"; readonly status: number; readonly headers?: Record<string, string> }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "CutBody" }

const ok: Fault = { _tag: "Ok" }
const statusFault = (status: number, headers?: Record<string, string>): Fault =>
  headers === undefined ? { _tag: "Status", status } : { _tag: "Status", status, headers }

interface ScenarioSpec {
  readonly summary: string
  readonly calls: number
  /** Read the body inside the retry boundary (needed to retry a body cut off). */
  readonly buffer: boolean
  /** Decides the fault of a call's hit (1-based); `failures` is drawn once per call for flaky. */
  readonly fault: (call: number, hit: number, failures: ReadonlyArray<Fault>) => Fault
}

const specs: Record<Scenario, ScenarioSpec> = {
  "rate-limit": {
    summary: "429 Too Many Requests with Retry-After: 1, then 200 (call 2 is let through at once)",
    calls: 3,
    buffer: false,
    fault: (call, hit) => (call !== 2 && hit === 1 ? statusFault(429, { "retry-after": "1" }) : ok)
  },
  outage: {
    summary: "503 Service Unavailable to every request, until the attempts run out",
    calls: 2,
    buffer: false,
    fault: () => statusFault(503)
  },
  flaky: {
    summary: "up to two random failures per call (500, 502 or a reset connection), then 200",
    calls: 3,
    buffer: false,
    fault: (_, hit, failures) => failures[hit - 1] ?? ok
  },
  "mid-body": {
    summary: "the body is cut off halfway once per call, then sent whole; the client reads it inside the " +
      "retry (buffer: true), so the cut is retried",
    calls: 2,
    buffer: true,
    fault: (_, hit) => (hit === 1 ? { _tag: "CutBody" } : ok)
  }
}

/** A JSON body of about a kilobyte, long enough to be cut in the middle. */
const body = (call: number) =>
  JSON.stringify({
    call,
    items: Array.from({ length: 24 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}`, inStock: (i * 7) % 5 }))
  })

/**
 * What a handler waits on once it has destroyed the connection itself. Not
 * `Effect.never`, which holds a timer that would keep the process alive if the
 * server never interrupted the handler.
 */
const abandoned: Effect.Effect<never> = Effect.async<never>(() => {})

const respond = (
  request: HttpServerRequest.HttpServerRequest,
  call: number,
  fault: Fault
): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  switch (fault._tag) {
    case "Ok":
      return Effect.succeed(
        HttpServerResponse.text(body(call), { contentType: "application/json" })
      )
    case "Status":
      return Effect.succeed(
        HttpServerResponse.text(`${fault.status} ${STATUS_CODES[fault.status] ?? ""}\n`, {
          status: fault.status,
          headers: fault.headers ?? {}
        })
      )
    case "Reset":
      // Close the connection without an answer: the client sees a transport error.
      return Effect.sync(() => NodeHttpServerRequest.toServerResponse(request).socket?.destroy()).pipe(
        Effect.zipRight(abandoned)
      )
    case "CutBody": {
      // Headers and the first half of the body, then the connection is destroyed.
      const full = body(call)
      return Effect.sync(() => {
        const response = NodeHttpServerRequest.toServerResponse(request)
        response.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(full)) })
        response.write(full.slice(0, full.length >> 1), () => response.socket?.destroy())
      }).pipe(Effect.zipRight(abandoned))
    }
  }
}

/** The server's request handler: `/call/N` is call N; hits are counted per call. */
const makeApp = (scenario: Scenario, maxAttempts: number) => {
  const spec = specs[scenario]
  const hits = new Map<number, number>()
  const failures = new Map<number, ReadonlyArray<Fault>>()
  // A flaky call fails up to twice (and fewer times than the attempts allowed), the first call at
  // least once so that there is something to see, with a random fault each time.
  const drawFailures = (call: number) => Effect.gen(function*() {
    const most = Math.min(2, maxAttempts - 1)
    const count = most === 0 ? 0 : yield* Random.nextIntBetween(call === 1 ? 1 : 0, most + 1)
    const pool: ReadonlyArray<Fault> = [statusFault(500), statusFault(502), { _tag: "Reset" }]
    return yield* Effect.replicateEffect(Effect.map(Random.nextIntBetween(0, pool.length), (i) => pool[i]!), count)
  })
  return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    Effect.gen(function*() {
      const call = Number(/^\/call\/(\d+)/.exec(request.url)?.[1] ?? 0)
      const hit = (hits.get(call) ?? 0) + 1
      hits.set(call, hit)
      if (hit === 1 && scenario === "flaky") failures.set(call, yield* drawFailures(call))
      return yield* respond(request, call, spec.fault(call, hit, failures.get(call) ?? []))
    }))
}

// ---------------------------------------------------------------------------
// The client side: what each attempt got

const statusText = (status: number) => `${status} ${STATUS_CODES[status] ?? ""}`.trimEnd()

const codeOf = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

/** What an attempt got, in a few words. */
export const describeFailure = (error: unknown): string => {
  if (error instanceof HttpRetry.RetryableStatus) {
    const retryAfter = error.response.headers["retry-after"]
    return `${statusText(error.response.status)}${retryAfter === undefined ? "" : ` (Retry-After: ${retryAfter})`}`
  }
  if (HttpClientError.isHttpClientError(error)) {
    const code = codeOf(error.cause)
    if (error._tag === "RequestError") {
      return error.reason === "Transport"
        ? `connection ${code === "ECONNRESET" ? "reset" : "failed"} before a response${code ? ` (${code})` : ""}`
        : `request not sent (${error.reason})`
    }
    if (error.reason === "Decode") {
      const cut = code === "ECONNRESET" || code === "UND_ERR_SOCKET"
      return `${statusText(error.response.status)}, ${cut ? "body cut off mid-stream" : "body could not be read"}${
        code ? ` (${code})` : ""
      }`
    }
    return `${statusText(error.response.status)} (${error.reason})`
  }
  if (Cause.isTimeoutException(error)) return "timed out"
  return String(error)
}

interface Attempt {
  /** The wait before this attempt; none for the first. */
  readonly waited: number | undefined
  result: string
}

/** One call as the table shows it. */
interface CallReport {
  readonly call: number
  readonly path: string
  readonly attempts: Array<Attempt>
  readonly outcome: string
  readonly totalMillis: number
}

/** Collects a call's events into its attempts. */
export const recorder = () => {
  const attempts: Array<Attempt> = [{ waited: undefined, result: "" }]
  let gaveUp: RetryEvent.GaveUp | undefined
  const onEvent = (event: RetryEvent.RetryEvent) =>
    Effect.sync(() => {
      switch (event._tag) {
        case "Retrying":
          attempts[event.attempt - 1]!.result = describeFailure(event.error)
          attempts[event.attempt] = { waited: Duration.toMillis(event.delay), result: "" }
          break
        case "GaveUp": {
          gaveUp = event
          // An attempt announced but never begun (the deadline came first, or an interruption) is no row.
          attempts.length = Math.max(1, event.attempts)
          const last = attempts[attempts.length - 1]!
          if (last.result === "" && event.attempts >= 1) {
            last.result = StatusLine.cutShort(event) ? `(${event.reason})` : describeFailure(event.error)
          }
          break
        }
        case "Succeeded":
          break
      }
    })
  return { attempts, onEvent, gaveUp: () => gaveUp }
}

const outcomeOf = (
  result: Either.Either<HttpClientResponse.HttpClientResponse, unknown>,
  attempts: number,
  gaveUp: RetryEvent.GaveUp | undefined
): string => {
  const tries = `${attempts} attempt${attempts === 1 ? "" : "s"}`
  if (gaveUp !== undefined) return `gave up after ${tries} (${gaveUp.reason})`
  if (Either.isLeft(result)) return `failed after ${tries}`
  return result.right.status < 400 ? `succeeded after ${tries}` : `${statusText(result.right.status)} after ${tries}`
}

const policySummary = (policy: RetryPolicy.RetryPolicy): string => {
  const jitter = typeof policy.jitter === "string" ? policy.jitter : `${policy.jitter.min}..${policy.jitter.max}`
  const retryAfter = policy.retryAfter === false
    ? "Retry-After ignored"
    : `Retry-After honoured up to ${formatMillis(Duration.toMillis(policy.retryAfter.max))}`
  const budget = Option.match(policy.maxElapsed, {
    onNone: () => "",
    onSome: (d) => `, within ${formatMillis(Duration.toMillis(d))}`
  })
  return `${policy.maxAttempts} attempts, ${formatMillis(Duration.toMillis(policy.baseDelay))} x${policy.factor} ` +
    `capped at ${formatMillis(Duration.toMillis(policy.maxDelay))}, jitter ${jitter}${budget}, ${retryAfter}`
}

/**
 * A measured duration as the demo prints it, with one precision everywhere (the
 * library's `RetryEvent.formatDelay`, as in "retrying in 1.2s"): whole
 * milliseconds below a second, seconds with one decimal above.
 */
const duration = (millis: number): string => RetryEvent.formatDelay(Duration.millis(millis))

/** The summary table of one call. */
export const callTable = (report: CallReport): Array<string> => [
  `call ${report.call}  GET ${report.path}  ${report.outcome} in ${duration(report.totalMillis)}`,
  ...renderTable(
    ["attempt", "waited", "got"],
    report.attempts.map((attempt, i) => [
      String(i + 1),
      attempt.waited === undefined ? "-" : duration(attempt.waited),
      attempt.result
    ]),
    ["right", "right", "left"]
  ).map((line) => `  ${line}`)
]

// ---------------------------------------------------------------------------
// The run

const round = (millis: number) => Math.round(millis)

/** Runs a scenario against an embedded server; resolves when every call is done. */
export const runDemo = (scenario: Scenario, policy: RetryPolicy.RetryPolicy, printHeld: Effect.Effect<void> = Effect.void) =>
  Effect.gen(function*() {
    const spec = specs[scenario]
    yield* HttpServer.serveEffect(makeApp(scenario, policy.maxAttempts))
    const base = yield* HttpServer.addressFormattedWith(Effect.succeed)
    const client = yield* HttpClient.HttpClient
    yield* Console.log(`Scenario ${scenario}: ${spec.summary}.`)
    yield* Console.log(`Server: ${base} (embedded, loopback only)`)
    yield* Console.log(`Policy: ${policySummary(policy)}`)

    const reports: Array<CallReport> = []
    for (let call = 1; call <= spec.calls; call++) {
      const path = `/call/${call}`
      const { attempts, gaveUp, onEvent } = recorder()
      const retrying = client.pipe(HttpRetry.withRetry(policy, { buffer: spec.buffer, onEvent }))
      yield* Console.log(`\ncall ${call}: GET ${path}`)
      const start = yield* Clock.currentTimeMillis
      const result = yield* retrying.get(`${base}${path}`).pipe(
        Effect.tap((response) => response.text),
        Effect.either
      )
      const totalMillis = (yield* Clock.currentTimeMillis) - start
      const last = attempts[attempts.length - 1]!
      if (last.result === "") {
        last.result = Either.isRight(result) ? statusText(result.right.status) : describeFailure(result.left)
      }
      const outcome = outcomeOf(result, attempts.length, gaveUp())
      const got = Either.isRight(result) ? statusText(result.right.status) : describeFailure(result.left)
      yield* printHeld
      yield* Console.log(`  result: ${got} after ${duration(totalMillis)}`)
      reports.push({ call, path, attempts, outcome, totalMillis: round(totalMillis) })
    }

    yield* Console.log("\nSummary")
    for (const report of reports) yield* Console.log(`\n${callTable(report).join("\n")}`)
  }).pipe(Effect.scoped)

/** The embedded server: loopback only, on a port the system picks. */
const ServerLive = NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })

/** Runs the demo: the scenario against the embedded server, with the status line on standard output. */
export const main = (options: { readonly scenario: Scenario; readonly verbose: boolean }, policy: RetryPolicy.RetryPolicy) =>
  Effect.gen(function*() {
    const tty = yield* Effect.flatMap(Terminal.Terminal, (terminal) => terminal.isTTY)
    // --verbose: the library's log lines (logfmt) are held until the line of the attempt they belong to is printed.
    const held: Array<string> = []
    const printHeld = Effect.suspend(() => Effect.forEach(held.splice(0), (line) => Console.log(line), { discard: true }))
    const statusLine = StatusLine.layer({
      tty,
      indent: "  ",
      describe: (attempt, error) => `attempt ${attempt}: ${describeFailure(error)}`,
      afterAttempt: printHeld
    })
    const holdLogs = Logger.map(Logger.logfmtLogger, (line) => void held.push(`    ${line}`))
    yield* runDemo(options.scenario, policy, printHeld).pipe(
      Effect.provide(Layer.mergeAll(ServerLive, NodeHttpClient.layer, statusLine)),
      options.verbose
        ? Effect.locallyWith(FiberRef.currentLoggers, () => HashSet.make(holdLogs))
        : Effect.provide(RetryLog.layerOff)
    )
  })
