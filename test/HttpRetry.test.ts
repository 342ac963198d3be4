import { HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse, HttpServerResponse, UrlParams } from "@effect/platform"
import { describe, expect, it, layer } from "@effect/vitest"
import { NodeHttpClient, NodeHttpServerRequest } from "@effect/platform-node"
import { Cause, Chunk, Duration, Effect, Exit, Fiber, Layer, Option, Schedule, Stream } from "effect"
import { RetryBudget, RetryObserver, RetryPolicy } from "../src/index.js"
import { HttpRetry } from "../src/http/index.js"
import { captureLogs, collectEvents, logText } from "./helpers.js"
import * as Http from "node:http"
import type * as Net from "node:net"
import { inspect } from "node:util"
import { clients, closedPort, cutMidBody, type Handler, status, TestServer, TestServerLive } from "./support/server.js"

// Short delays keep the loopback suite quick; the Retry-After tests use real seconds.
const fast = RetryPolicy.make({ baseDelay: "10 millis", maxDelay: "50 millis", jitter: "none" })

const recorder = collectEvents

const gaps = (hits: ReadonlyArray<{ readonly at: number }>) => hits.slice(1).map((hit, i) => hit.at - hits[i]!.at)

/** A server that answers 503 with `headers` and a body that never ends, and counts its open sockets. */
const stallingServer = (headers: Record<string, string>) =>
  Effect.gen(function*() {
    const sockets = new Set<Net.Socket>()
    const raw = Http.createServer((_, response) => {
      response.writeHead(503, { ...headers, "content-type": "text/plain" })
      response.write("unavailable, and the rest never comes")
    })
    raw.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void raw.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () =>
        Effect.sync(() => {
          raw.closeAllConnections()
          raw.close()
        })
    )
    return { sockets, url: `http://127.0.0.1:${(raw.address() as Net.AddressInfo).port}/` }
  })

/** The sockets still open once at most `expected` are, or after 10 s. */
const socketsLeft = (sockets: ReadonlySet<Net.Socket>, expected: number) =>
  Effect.gen(function*() {
    for (let waited = 0; waited < 1000 && sockets.size > expected; waited++) yield* Effect.sleep("10 millis")
    return sockets.size
  })

for (const [name, clientLayer] of clients) {
  layer(Layer.mergeAll(TestServerLive, clientLayer), { excludeTestServices: true })(`HttpRetry.withRetry on ${name}`, (it) => {
    const client = (options?: HttpRetry.Options, policy = fast) =>
      Effect.map(HttpClient.HttpClient, HttpRetry.withRetry(policy, options))

    it.effect("retries a 500 and returns the 200 that follows", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit === 1 ? 500 : 200))
        const response = yield* (yield* client()).get(server.url())
        expect(response.status).toBe(200)
        expect(yield* response.text).toBe("status 200")
        expect(server.hits()).toHaveLength(2)
      }))

    it.effect("returns the last 500 as it came once attempts run out", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(500))
        const { events, onEvent } = recorder()
        const response = yield* (yield* client({ onEvent })).get(server.url())
        expect(response.status).toBe(500)
        expect(yield* response.text).toBe("status 500")
        expect(server.hits()).toHaveLength(3)
        expect(events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "GaveUp"])
      }))

    it.effect("does not retry a 401", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(401))
        const response = yield* (yield* client()).get(server.url())
        expect(response.status).toBe(401)
        expect(server.hits()).toHaveLength(1)
      }))

    it.effect("waits at least Retry-After: 1 before the second hit", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => hit === 1 ? status(429, { "retry-after": "1" }) : status(200))
        const response = yield* (yield* client()).get(server.url())
        expect(response.status).toBe(200)
        expect(server.hits()).toHaveLength(2)
        expect(gaps(server.hits())[0]).toBeGreaterThanOrEqual(1000)
      }))

    it.effect("reads an HTTP-date Retry-After on a 503", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        // Two seconds ahead, in whole seconds as HTTP-dates are.
        const date = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000)
        yield* server.script((_, hit) => hit === 1 ? status(503, { "retry-after": date.toUTCString() }) : status(200))
        const { events, onEvent } = recorder()
        const response = yield* (yield* client({ onEvent })).get(server.url())
        expect(response.status).toBe(200)
        const retrying = events[0]
        // The delay is the time left until the date, not the 10 ms backoff.
        expect(retrying?._tag === "Retrying" && Duration.toMillis(retrying.delay)).toBeGreaterThan(900)
        expect(gaps(server.hits())[0]).toBeGreaterThanOrEqual(900)
      }))

    it.effect("gives up at once on an HTTP-date beyond retryAfter.max", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        const date = new Date(Date.now() + 120_000).toUTCString()
        yield* server.script(() => status(503, { "retry-after": date }))
        const { events, onEvent } = recorder()
        const response = yield* (yield* client({ onEvent })).get(server.url())
        expect(response.status).toBe(503)
        expect(server.hits()).toHaveLength(1)
        expect(events).toMatchObject([{ _tag: "GaveUp", reason: "retry-after-too-long", attempts: 1 }])
      }))

    it.effect("honours retry-after-ms", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => hit === 1 ? status(429, { "retry-after-ms": "300" }) : status(200))
        const response = yield* (yield* client()).get(server.url())
        expect(response.status).toBe(200)
        expect(gaps(server.hits())[0]).toBeGreaterThanOrEqual(300)
      }))

    it.effect("Retry-After above the cap: fail, clamp and ignore", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        const run = (whenAboveMax: "fail" | "clamp" | "ignore") =>
          Effect.gen(function*() {
            yield* server.script((_, hit) => hit === 1 ? status(429, { "retry-after": "30" }) : status(200))
            const policy = fast.pipe(RetryPolicy.update({ retryAfter: { max: "200 millis", whenAboveMax, spread: 0 } }))
            const { events, onEvent } = recorder()
            const response = yield* (yield* client({ onEvent }, policy)).get(server.url())
            const first = events[0]
            return {
              status: response.status,
              hits: server.hits().length,
              gap: gaps(server.hits())[0],
              delayFrom: first?._tag === "Retrying" ? first.delayFrom : undefined
            }
          })
        const fail = yield* run("fail")
        expect(fail).toMatchObject({ status: 429, hits: 1 })
        const clamp = yield* run("clamp")
        expect(clamp).toMatchObject({ status: 200, hits: 2 })
        expect(clamp.gap).toBeGreaterThanOrEqual(200)
        expect(clamp.gap).toBeLessThan(5000)
        const ignore = yield* run("ignore")
        // The backoff, not the hint: the decided delay says so (a measured gap would depend on the machine's load).
        expect(ignore).toMatchObject({ status: 200, hits: 2, delayFrom: "backoff" })
      }))

    it.effect("retries a refused connection, then fails with a typed transport error", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const { events, onEvent } = recorder()
        const error = yield* Effect.flip((yield* client({ onEvent })).get(`http://127.0.0.1:${port}/`))
        expect(error._tag).toBe("RequestError")
        expect(error._tag === "RequestError" && error.reason).toBe("Transport")
        expect(events.map((e) => e._tag)).toEqual(["Retrying", "Retrying", "GaveUp"])
      }))

    it.effect("hands the response out before the body: a cut mid-body is not retried", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(cutMidBody)
        const response = yield* (yield* client()).get(server.url())
        const error = yield* Effect.flip(response.text)
        expect(error.reason).toBe("Decode")
        expect(server.hits()).toHaveLength(1)
      }))

    it.effect("with buffer: true a connection lost mid-body is retried", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((request, hit) =>
          hit === 1 ? cutMidBody(request, hit) : Effect.succeed(HttpServerResponse.unsafeJson({ whole: true }))
        )
        const response = yield* (yield* client({ buffer: true })).get(server.url())
        expect(yield* response.json).toEqual({ whole: true })
        expect(yield* response.text).toBe("{\"whole\":true}")
        expect(server.hits()).toHaveLength(2)
      }))

    it.effect("with buffer: true and no attemptTimeout, a 503 whose body never ends does not hold the call", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((request) =>
          Effect.sync(() => {
            const response = NodeHttpServerRequest.toServerResponse(request)
            response.writeHead(503, { "content-type": "text/plain" })
            response.write("unavailable, and the rest never comes")
          }).pipe(Effect.zipRight(Effect.never))
        )
        const response = yield* (yield* client({ buffer: true })).get(server.url()).pipe(
          Effect.timeoutFail({ duration: "8 seconds", onTimeout: () => "the call hung" })
        )
        expect(response.status).toBe(503)
        expect(server.hits()).toHaveLength(3)
        // Release the last 503 (its body never ends), so that its connection does not hold the server's close.
        yield* Effect.ignore(Effect.timeout(Stream.runDrain(response.stream), "50 millis"))
      }), 15_000)

    it.effect("with buffer: true a stream (SSE, NDJSON, JSON Lines) is handed over as it arrives, not read whole", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        // Server-sent events (OpenAI, Anthropic) and newline-delimited JSON (Ollama's streamed answers).
        const streams = [
          ["text/event-stream", "data: first\n\n"],
          ["application/x-ndjson", "{\"response\":\"first\"}\n"],
          ["application/jsonl; charset=utf-8", "{\"n\":1}\n"]
        ] as const
        for (const [contentType, firstChunk] of streams) {
          yield* server.script((request) =>
            Effect.sync(() => {
              const response = NodeHttpServerRequest.toServerResponse(request)
              response.writeHead(200, { "content-type": contentType })
              response.write(firstChunk)
            }).pipe(Effect.zipRight(Effect.never))
          )
          const response = yield* (yield* client({ buffer: true })).get(server.url()).pipe(
            Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => `the ${contentType} stream was read whole` })
          )
          const first = yield* response.stream.pipe(Stream.decodeText(), Stream.take(1), Stream.runCollect)
          expect(Chunk.join(first, "")).toBe(firstChunk)
        }
      }), 30_000)

    it.effect("with buffer: true a body that arrived whole but is not JSON is not retried", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => Effect.succeed(HttpServerResponse.text("{not json", { contentType: "application/json" })))
        const response = yield* (yield* client({ buffer: true })).get(server.url())
        const error = yield* Effect.flip(response.json)
        expect(error.reason).toBe("Decode")
        expect(error.cause).toBeInstanceOf(SyntaxError)
        expect(HttpRetry.isRetryable(error)).toBe(false)
        expect(server.hits()).toHaveLength(1)
      }))

    it.effect("does not retry a POST without an idempotency key", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(503))
        const response = yield* (yield* client()).post(server.url())
        expect(response.status).toBe(503)
        expect(server.hits()).toHaveLength(1)
      }))

    it.effect("retries a POST that carries an Idempotency-Key, with the same key", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit === 1 ? 503 : 201))
        const response = yield* (yield* client()).post(server.url(), { headers: { "Idempotency-Key": "order-42" } })
        expect(response.status).toBe(201)
        expect(server.hits().map((hit) => hit.headers["idempotency-key"])).toEqual(["order-42", "order-42"])
      }))

    it.effect("idempotencyKey: \"auto\" sends one stable key on every attempt", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit < 3 ? 503 : 201))
        const http = yield* client({ idempotencyKey: "auto" })
        const response = yield* http.post(server.url())
        expect(response.status).toBe(201)
        const keys = server.hits().map((hit) => hit.headers["idempotency-key"])
        expect(keys).toHaveLength(3)
        expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(new Set(keys).size).toBe(1)
        yield* server.script(() => status(201))
        yield* http.post(server.url())
        expect(server.hits()[0]!.headers["idempotency-key"]).not.toBe(keys[0])
      }))

    it.effect("an empty Idempotency-Key is no key: the POST is sent once, and \"auto\" fills one in", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit === 1 ? 503 : 201))
        const blank = { headers: { "Idempotency-Key": " " } }
        expect((yield* (yield* client()).post(server.url(), blank)).status).toBe(503)
        expect(server.hits()).toHaveLength(1)
        yield* server.script((_, hit) => status(hit === 1 ? 503 : 201))
        expect((yield* (yield* client({ idempotencyKey: "auto" })).post(server.url(), blank)).status).toBe(201)
        const keys = server.hits().map((hit) => hit.headers["idempotency-key"])
        expect(keys).toHaveLength(2)
        expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/)
        expect(keys[1]).toBe(keys[0])
      }))

    it.effect("x-should-retry overrides the status rule both ways", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => hit === 1 ? status(400, { "x-should-retry": "true" }) : status(200))
        expect((yield* (yield* client()).get(server.url())).status).toBe(200)
        expect(server.hits()).toHaveLength(2)
        yield* server.script(() => status(503, { "x-should-retry": "false" }))
        expect((yield* (yield* client()).get(server.url())).status).toBe(503)
        expect(server.hits()).toHaveLength(1)
      }))

    it.effect("rejects a header value with a newline before sending, without printing it", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(200))
        const secret = "sk-live-abc123"
        const exit = yield* Effect.exit(
          (yield* client()).get(server.url(), { headers: { authorization: `Bearer ${secret}\n` } })
        )
        expect(server.hits()).toHaveLength(0)
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(Cause.isDie(exit.cause)).toBe(false)
          const error = Cause.failureOption(exit.cause).pipe(Option.getOrThrow)
          expect(error).toBeInstanceOf(HttpClientError.RequestError)
          expect((error as HttpClientError.RequestError).reason).toBe("Encode")
          expect(error.message).toContain("authorization")
          expect(error.message).toContain("line feed")
          expect(error.message).not.toContain(secret)
          expect(JSON.stringify(error)).not.toContain(secret)
        }
      }))

    it.effect("redacts every invalid header value, not only the first", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(200))
        const first = "first-secret-111"
        const second = "second-secret-222"
        const error = yield* Effect.flip(
          (yield* client()).get(server.url(), { headers: { "x-one": `${first}\n`, "x-two": `${second}\r` } })
        )
        expect(server.hits()).toHaveLength(0)
        for (const text of [JSON.stringify(error), inspect(error, { depth: 20 }), String(error), error.message]) {
          expect(text).not.toContain(first)
          expect(text).not.toContain(second)
        }
      }))

    it.effect("a whole header line pasted as a name is rejected without printing what follows the name", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(200))
        const secret = "sk-live-abc123"
        const error = yield* Effect.flip(
          (yield* client()).get(server.url(), {
            headers: { [`Authorization: Bearer ${secret}`]: "", "x-trace": "t-1" },
            urlParams: { page: "2" }
          })
        )
        expect(server.hits()).toHaveLength(0)
        expect(error._tag).toBe("RequestError")
        // The platform lower-cases header names.
        expect(error.message).toContain("\"authorization\"")
        expect(error.message).toContain("\":\" (U+003A) at position 13")
        // The request the error carries is the same request without the rejected header.
        const request = (error as HttpClientError.RequestError).request
        expect(Object.keys(request.headers)).toEqual(["x-trace"])
        expect([request.method, request.url, UrlParams.toString(request.urlParams)]).toEqual(["GET", server.url(), "page=2"])
        for (const text of [JSON.stringify(error), inspect(error, { depth: 20 }), String(error), error.message]) {
          expect(text).not.toContain(secret)
          expect(text).not.toContain("bearer")
        }
      }))

    it.effect("interrupting calls that wait out a retryable response's backoff releases its connection at once", () =>
      Effect.gen(function*() {
        const { sockets, url } = yield* stallingServer({ "retry-after": "30" })
        const { events, onEvent } = recorder()
        const http = yield* client({ onEvent })
        const fibers = yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.fork(http.get(url)))
        // Wait until every call has had its 503 and sleeps the 30 s it asked for.
        for (let i = 0; i < 1000 && events.length < 20; i++) yield* Effect.sleep("10 millis")
        expect(events.filter((event) => event._tag === "Retrying")).toHaveLength(20)
        expect(sockets.size).toBe(20)
        yield* Fiber.interruptAll(fibers)
        // Released within a few seconds (under load), not after the 30 s backoff or when the client layer closes.
        expect(yield* socketsLeft(sockets, 0)).toBe(0)
      }).pipe(Effect.scoped), 20_000)

    it.effect("retried responses that a filterStatusOk below made errors are released, not kept until the client closes", () =>
      Effect.gen(function*() {
        const { sockets, url } = yield* stallingServer({})
        const policy = fast.pipe(RetryPolicy.update({ maxAttempts: 4 }))
        const filtered = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk, HttpRetry.withRetry(policy))
        const exit = yield* Effect.exit(filtered.get(url))
        expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject(Option.some({ _tag: "ResponseError" }))
        // Four responses came; only the last, handed to the caller in its error, may keep its connection.
        expect(yield* socketsLeft(sockets, 1)).toBeLessThanOrEqual(1)
      }).pipe(Effect.scoped), 20_000)

    it.effect("a retryable response whose body stalls does not hold back the next attempt", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        const stalled503: Handler = (request, hit) =>
          hit > 1 ? status(200) : Effect.sync(() => {
            const response = NodeHttpServerRequest.toServerResponse(request)
            response.writeHead(503, { "content-type": "text/plain", "content-length": "1000" })
            response.write("unavailab")
          }).pipe(Effect.zipRight(Effect.never))
        // Without attemptTimeout the drain may take up to 1 s, with one up to that limit: neither may delay the retry.
        for (const options of [{}, { attemptTimeout: "3 seconds" }] satisfies Array<HttpRetry.Options>) {
          yield* server.script(stalled503)
          const response = yield* (yield* client(options)).get(server.url())
          expect(response.status).toBe(200)
          expect(gaps(server.hits())[0]).toBeLessThan(800)
        }
      }), 20_000)

    it.effect("a defect while a retryable response waits releases that response", () =>
      Effect.gen(function*() {
        const { sockets, url } = yield* stallingServer({})
        const failing = yield* client({
          while: () => {
            throw new Error("classifier bug")
          }
        })
        const exit = yield* Effect.exit(failing.get(url))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(yield* socketsLeft(sockets, 0)).toBe(0)
      }).pipe(Effect.scoped), 20_000)

    it.effect("attemptTimeout bounds each attempt against a server that hangs", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => Effect.never)
        const error = yield* Effect.flip((yield* client({ attemptTimeout: "100 millis" })).get(server.url()))
        // An HttpClientError, so the wrapped client keeps the client's error type.
        expect(error).toBeInstanceOf(HttpClientError.RequestError)
        expect(error._tag === "RequestError" && error.reason).toBe("Transport")
        expect(Cause.isTimeoutException(error.cause)).toBe(true)
        expect(HttpRetry.isAttemptTimeout(error)).toBe(true)
        expect(HttpRetry.isRetryable(error)).toBe(true)
        expect(server.hits()).toHaveLength(3)
      }))

    it.effect("interrupting during a backoff sends no further request", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(503))
        const slow = RetryPolicy.make({ baseDelay: "300 millis", jitter: "none" })
        const fiber = yield* Effect.fork((yield* client({}, slow)).get(server.url()))
        while (server.hits().length === 0) yield* Effect.sleep("5 millis")
        yield* Effect.sleep("50 millis")
        yield* Fiber.interrupt(fiber)
        yield* Effect.sleep("500 millis")
        expect(server.hits()).toHaveLength(1)
      }))

    it.effect("attemptHeader sends the 0-based retry count", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit < 3 ? 502 : 200))
        yield* (yield* client({ attemptHeader: "x-retry-attempt" })).get(server.url())
        expect(server.hits().map((hit) => hit.headers["x-retry-attempt"])).toEqual(["0", "1", "2"])
      }))

    it.effect("events carry the method, the URL without its query, and the status", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit === 1 ? 503 : 200))
        const { events, onEvent } = recorder()
        yield* (yield* client({ onEvent })).pipe(HttpClient.mapRequest(HttpClientRequest.setUrlParam("token", "secret")))
          .get(server.url("/items"))
        expect(server.hits()[0]!.url).toContain("token=secret")
        expect(events).toHaveLength(2)
        expect(events[0]).toMatchObject({ _tag: "Retrying", attempt: 1, http: { method: "GET", url: server.url("/items"), status: 503 } })
        expect(events[1]).toMatchObject({ _tag: "Succeeded", attempts: 2, http: { method: "GET", url: server.url("/items") } })
      }))

    it.effect("URL userinfo never reaches events or logs, even when the URL does not parse", () =>
      Effect.gen(function*() {
        const { events, onEvent } = recorder()
        const { layer: logLayer, logs } = captureLogs()
        const http = yield* client({ onEvent })
        const urls = [
          "http://user:PASSWORD@bad host/p",
          "http://user:PASSWORD@127.0.0.1:1/p",
          // A password holding a character that ends the authority, a URL without
          // a scheme, and one whose scheme the WHATWG parser does not take userinfo from.
          "http://user:PASS?WORD@127.0.0.1:1/p",
          "http://user:PASS/WORD@127.0.0.1:1/p",
          "http://user:PASS#WORD@127.0.0.1:1/p",
          "//user:PASSWORD@127.0.0.1:1/p",
          "user:PASSWORD@127.0.0.1:1/p"
        ]
        for (const url of urls) {
          const before = events.length
          const exit = yield* Effect.exit(http.get(url)).pipe(Effect.provide(logLayer))
          // A call ends with an event (a give-up at the least), unless its URL was refused before anything was sent.
          const refused = Exit.isFailure(exit) &&
            Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "RequestError" && e.reason === "InvalidUrl")
          expect({ url, refused, events: events.length - before }).not.toMatchObject({ refused: false, events: 0 })
        }
        for (const event of events) expect(JSON.stringify(event.http)).not.toMatch(/PASS|WORD/)
        expect(logs.length).toBeGreaterThan(0)
        for (const log of logs) expect(logText(log)).not.toMatch(/PASS|WORD/)
      }))

    it.effect("a URL that is not http(s) is a typed InvalidUrl error, sent to no one and retried never", () =>
      Effect.gen(function*() {
        const { events, onEvent } = recorder()
        const http = yield* client({ onEvent })
        // A pasted "user:password@host" and a forgotten "http://" read as a scheme; a URL that does not parse and holds an "@".
        for (const url of ["user:PASSWORD@127.0.0.1:1/p", "localhost:1/p", "http://user:PASS?WORD@127.0.0.1:1/p"]) {
          const before = events.length
          const exit = yield* Effect.exit(http.get(url))
          const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
          expect(Option.getOrUndefined(error)).toMatchObject({ _tag: "RequestError", reason: "InvalidUrl" })
          // Refused before the retry boundary: there was no attempt to report.
          expect(events.slice(before)).toEqual([])
          const text = Option.match(error, { onNone: () => "", onSome: (e) => [JSON.stringify(e), inspect(e), String(e)].join() })
          expect(text).not.toMatch(/PASS|WORD/)
        }
      }))

    it.effect("a retryable status in an event prints no header value, query or userinfo", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(503, { "set-cookie": "session=SECRET-COOKIE" }))
        const { events, onEvent } = recorder()
        // fetch refuses a URL with userinfo, so only node:http and undici send one.
        const url = name === "fetch" ? server.url("/v1") : server.url("/v1").replace("http://", "http://user:SECRET-PASS@")
        const request = HttpClientRequest.get(`${url}?token=SECRET-QUERY`).pipe(
          HttpClientRequest.setHeaders({ authorization: "Bearer SECRET-AUTH", "api-key": "SECRET-KEY" })
        )
        expect((yield* (yield* client({ onEvent })).execute(request)).status).toBe(503)
        expect(events.map((event) => event._tag)).toEqual(["Retrying", "Retrying", "GaveUp"])
        for (const event of events) {
          const error = event._tag === "Succeeded" ? undefined : event.error
          expect(error).toBeInstanceOf(HttpRetry.RetryableStatus)
          for (const text of [JSON.stringify(event), inspect(event, { depth: 20 }), String(error), inspect(error, { depth: 20 })]) {
            expect(text).not.toContain("SECRET")
          }
          // What it does print: the status and where the request went.
          expect(JSON.stringify(error)).toContain("503")
          expect(inspect(error)).toContain("/v1")
        }
      }))

    it.effect("a transport error in an event prints no header value or query, and reads as the platform's error", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const { events, onEvent } = recorder()
        const request = HttpClientRequest.get(`http://127.0.0.1:${port}/v1?token=SECRET-QUERY`).pipe(
          HttpClientRequest.setHeaders({ authorization: "Bearer SECRET-AUTH", "x-api-key": "SECRET-KEY" })
        )
        const error = yield* Effect.flip((yield* client({ onEvent })).execute(request))
        expect(events.map((event) => event._tag)).toEqual(["Retrying", "Retrying", "GaveUp"])
        for (const event of events) {
          const shown = event._tag === "Succeeded" ? undefined : event.error
          // What a listener reads is the platform's error: its tag, reason, request and class.
          expect(HttpClientError.isHttpClientError(shown)).toBe(true)
          expect(shown).toBeInstanceOf(HttpClientError.RequestError)
          expect(shown).toMatchObject({ _tag: "RequestError", reason: "Transport" })
          expect((shown as HttpClientError.RequestError).request.headers.authorization).toBe("Bearer SECRET-AUTH")
          for (const text of [JSON.stringify(event), inspect(event, { depth: 20 }), String(shown), inspect(shown, { depth: 20 })]) {
            expect(text).not.toContain("SECRET")
          }
          expect(JSON.stringify(shown)).toContain(`127.0.0.1:${port}/v1`)
        }
        // The caller gets the platform's error itself, untouched.
        expect(error).toBeInstanceOf(HttpClientError.RequestError)
        expect(JSON.stringify(error)).toContain("SECRET-QUERY")
      }))

    it.effect("a request the client refuses to send is not retried", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => status(200))
        const { events, onEvent } = recorder()
        const http = yield* client({ onEvent })
        // undici (and fetch, which is built on it) refuse these headers before
        // sending; fetch refuses a URL with userinfo. node:http sends them all.
        const refused = [
          HttpClientRequest.put(server.url()).pipe(
            HttpClientRequest.setHeader("transfer-encoding", "chunked"),
            HttpClientRequest.bodyText("x")
          ),
          HttpClientRequest.get(server.url()).pipe(HttpClientRequest.setHeader("expect", "100-continue")),
          ...(name === "fetch" ? [HttpClientRequest.get(server.url().replace("http://", "http://user:pw@"))] : [])
        ]
        if (name === "node:http") {
          // node:http sends them; whatever the server makes of them, none is retried.
          for (const request of refused) yield* Effect.exit(http.execute(request))
          expect(server.hits().length).toBeGreaterThan(0)
          expect(events.filter((event) => event._tag === "Retrying")).toEqual([])
          return
        }
        for (const request of refused) {
          const before = events.length
          const exit = yield* Effect.exit(http.execute(request))
          expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject(
            Option.some({ _tag: "RequestError", reason: "Transport" })
          )
          expect(events.slice(before)).toMatchObject([{ _tag: "GaveUp", reason: "not-retryable", attempts: 1 }])
        }
        expect(server.hits()).toHaveLength(0)
      }))

    it.effect("the errors the middleware builds leave out the URL's userinfo", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => Effect.never)
        const withPassword = server.url("/p").replace("http://", "http://user:PASSWORD@")
        const texts = (exit: Exit.Exit<unknown, unknown>) =>
          Exit.isFailure(exit) ? [Cause.pretty(exit.cause), JSON.stringify(Cause.squash(exit.cause)), inspect(Cause.squash(exit.cause))] : []
        const badHeader = yield* Effect.exit(
          (yield* client()).execute(HttpClientRequest.get(withPassword).pipe(HttpClientRequest.setHeader("x-key", "a\nb")))
        )
        // fetch refuses a URL with userinfo itself, with the platform's own error, which is not the middleware's.
        const timedOut = name === "fetch"
          ? badHeader
          : yield* Effect.exit((yield* client({ attemptTimeout: "50 millis" })).get(withPassword))
        for (const exit of [badHeader, timedOut]) {
          expect(Exit.isFailure(exit)).toBe(true)
          for (const text of texts(exit)) expect(text).not.toContain("PASSWORD")
        }
      }))

    it.effect("rate-limit reset headers count on a 429, not on a 502", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        const resetIn = { "x-ratelimit-reset-requests": "300ms", "x-ratelimit-reset": `${Math.floor(Date.now() / 1000) + 3600}` }
        yield* server.script((_, hit) => hit === 1 ? status(502, resetIn) : status(200))
        const policy = fast.pipe(RetryPolicy.update({ retryAfter: { max: "1 second", spread: 0 } }))
        const { events, onEvent } = recorder()
        const response = yield* (yield* client({ onEvent }, policy)).get(server.url())
        // The 502 is retried after the 10 ms backoff: the quota headers neither delay nor stop it.
        // (The decided delay is checked, not the measured gap, which a loaded machine stretches.)
        expect(response.status).toBe(200)
        expect(server.hits()).toHaveLength(2)
        expect(events[0]).toMatchObject({ _tag: "Retrying", delayFrom: "backoff", delay: Duration.millis(10) })
        yield* server.script((_, hit) => hit === 1 ? status(429, { "x-ratelimit-reset-requests": "300ms" }) : status(200))
        expect((yield* (yield* client({}, policy)).get(server.url())).status).toBe(200)
        expect(gaps(server.hits())[0]).toBeGreaterThanOrEqual(300)
      }))

    it.effect("a 429 waits for the rate-limit budget that ran out, and gives up when it resets too late", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        const openAi = (tokensReset: string) => ({
          "x-ratelimit-remaining-requests": "499",
          "x-ratelimit-reset-requests": "12ms",
          "x-ratelimit-remaining-tokens": "0",
          "x-ratelimit-reset-tokens": tokensReset
        })
        yield* server.script((_, hit) => hit === 1 ? status(429, openAi("600ms")) : status(200))
        const { events, onEvent } = recorder()
        expect((yield* (yield* client({ onEvent })).get(server.url())).status).toBe(200)
        expect(gaps(server.hits())[0]).toBeGreaterThanOrEqual(600)
        expect(events[0]).toMatchObject({ _tag: "Retrying", delayFrom: "retry-after" })
        yield* server.script(() => status(429, openAi("6m0s")))
        const late = recorder()
        expect((yield* (yield* client({ onEvent: late.onEvent })).get(server.url())).status).toBe(429)
        expect(server.hits()).toHaveLength(1)
        expect(late.events).toMatchObject([{ _tag: "GaveUp", reason: "retry-after-too-long" }])
      }))

    it.effect("honours Retry-After when a filterStatusOk below the middleware made the status an error", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => hit === 1 ? status(429, { "retry-after-ms": "300" }) : status(200))
        const filtered = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk, HttpRetry.withRetry(fast))
        const response = yield* filtered.get(server.url())
        expect(response.status).toBe(200)
        expect(gaps(server.hits())[0]).toBeGreaterThanOrEqual(300)
      }))

    it.effect("the RetryObserver in scope receives HTTP events too", () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) => status(hit === 1 ? 429 : 200))
        const { events, onEvent } = recorder()
        yield* (yield* client()).get(server.url("/observed")).pipe(Effect.provide(RetryObserver.layer(onEvent)))
        expect(events.map((event) => [event._tag, event.http?.status])).toEqual([["Retrying", 429], ["Succeeded", undefined]])
      }))
  })
}

describe("HttpRetry.withRetry types", () => {
  it("fits (client: HttpClient) => HttpClient for every option, inline or held in a variable", () => {
    type Transform = (client: HttpClient.HttpClient) => HttpClient.HttpClient
    const inline: Transform = HttpRetry.withRetry(fast, {
      attemptTimeout: "5 seconds",
      idempotencyKey: "auto",
      attemptHeader: "x-retry-attempt",
      buffer: true,
      bufferRequestBody: { maxBytes: 1024 },
      retryOn: [429, 503],
      methods: ["GET", "POST"],
      // Typed callbacks: no implicit any under strict.
      onEvent: (event) => Effect.log(event._tag),
      while: (error) => !(error instanceof HttpRetry.RetryableStatus && error.response.status === 429)
    })
    const options: HttpRetry.Options = { attemptTimeout: "5 seconds" }
    const held: Transform = HttpRetry.withRetry(fast, options)
    const dataFirst = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
      HttpRetry.withRetry(client, fast, { attemptTimeout: 1000, onEvent: (event) => Effect.log(event._tag) })
    expect([inline, held, dataFirst].every((f) => typeof f === "function")).toBe(true)
  })
})

// One connection for the whole client: the next attempt needs the socket a
// stalled retryable body holds, so that body must be cut when the retry
// starts, not drained beside it while the attempt's own time limit runs.
layer(
  Layer.mergeAll(
    TestServerLive,
    NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ maxSockets: 1, keepAlive: true })))
  ),
  { excludeTestServices: true }
)("HttpRetry.withRetry on a client with one connection", (it) => {
  it.effect("a retryable response whose body stalls neither delays the retry nor starves it of its connection", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script((request, hit) =>
        hit > 1 ? status(200) : Effect.sync(() => {
          const response = NodeHttpServerRequest.toServerResponse(request)
          response.writeHead(503, { "content-type": "text/plain", "content-length": "1000" })
          response.write("unavailab")
        }).pipe(Effect.zipRight(Effect.never))
      )
      const { events, onEvent } = recorder()
      const http = (yield* HttpClient.HttpClient).pipe(HttpRetry.withRetry(fast, { attemptTimeout: "1 second", onEvent }))
      const response = yield* http.get(server.url())
      expect(response.status).toBe(200)
      expect(events.map((event) => event._tag)).toEqual(["Retrying", "Succeeded"])
      expect(gaps(server.hits())[0]).toBeLessThan(800)
    }), 20_000)
})

describe("HttpRetry.withRetry over a client of one's own", () => {
  it.effect("leaves schemes of its own to that client", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const own = HttpClient.make((request) =>
        Effect.sync(() => {
          seen.push(request.url)
          return HttpClientResponse.fromWeb(request, new Response(seen.length % 2 === 1 ? "busy" : "ok", { status: seen.length % 2 === 1 ? 503 : 200 }))
        })
      ).pipe(HttpRetry.withRetry(fast))
      expect((yield* own.get("mock://service/todos")).status).toBe(200)
      expect(seen).toEqual(["mock://service/todos", "mock://service/todos"])
    }))
})

describe("HttpRetry.withRetry option checks", () => {
  const bad: ReadonlyArray<readonly [string, unknown]> = [
    ["retryOn", "503"],
    ["retryOn", [503, "504"]],
    ["methods", "GET"],
    ["methods", ["GET", 5]],
    ["attemptHeader", 5],
    ["attemptHeader", "bad header"],
    ["buffer", "yes"],
    ["while", "x"],
    ["onEvent", 1],
    ["budget", {}],
    ["budget", { withdraw: () => Effect.void, succeeded: () => Effect.void, unsafeRequest: 1 }],
    ["idempotencyKey", "on"],
    ["attemptTimeout", -1],
    ["bufferRequestBody", 1024],
    ["bufferRequestBody", { maxBytes: -1 }],
    ["bufferRequestBody", { maxBytes: 10, maxbytes: 1 }],
    // A header the middleware or the transport owns: a per-attempt value there
    // would overwrite the idempotency key or break the framing.
    ["attemptHeader", "Idempotency-Key"],
    ["attemptHeader", "content-length"],
    ["attemptHeader", "Host"],
    ["attemptHeader", "transfer-encoding"],
    ["retryOn", null],
    ["methods", null],
    // No limit at all is said by leaving the option out; zero fails every attempt at once.
    ["attemptTimeout", Infinity],
    ["attemptTimeout", 0]
  ]
  for (const [name, value] of bad) {
    it(`${name}: ${JSON.stringify(value)} is a typed error naming the option`, () => {
      let thrown: unknown
      try {
        HttpRetry.withRetry(fast, { [name]: value } as unknown as HttpRetry.Options)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
      expect((thrown as RetryPolicy.InvalidRetryPolicy).field).toMatch(new RegExp(`^http\\.${name}`))
    })
  }
})

describe("HttpRetry.withRetry option messages", () => {
  it("name what was given in plain words", () => {
    const messageOf = (options: unknown) => {
      try {
        HttpRetry.withRetry(fast, options as HttpRetry.Options)
      } catch (error) {
        return (error as RetryPolicy.InvalidRetryPolicy).message
      }
      return ""
    }
    expect(messageOf({ budget: {} })).toContain("an object")
    expect(messageOf({ buffer: Symbol("x") })).toContain("a symbol")
    expect(messageOf({ buffer: () => true })).toContain("a function")
  })
})

describe("HttpRetry.withRetry policy argument", () => {
  for (const value of [undefined, null, {}, { maxAttempts: 3 }, Schedule.recurs(2)]) {
    it(`${inspect(value, { depth: 0 })} is a typed error naming the policy`, () => {
      let thrown: unknown
      try {
        HttpRetry.withRetry(value as unknown as RetryPolicy.RetryPolicy)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
      expect((thrown as RetryPolicy.InvalidRetryPolicy).field).toBe("policy")
    })
  }
})

describe("HttpRetry.withRetry budget option", () => {
  it("takes a budget that leaves out the success-path hooks it has no use for", () => {
    const retries = RetryBudget.make({ withdraw: () => Option.some(1), snapshot: () => ({ available: 1, capacity: 1 }) })
    expect(retries.unsafeRequest).toBeUndefined()
    expect(() => HttpRetry.withRetry(fast, { budget: retries })).not.toThrow()
  })
})

describe("HttpRetry.isRetryable", () => {
  const request = HttpClientRequest.get("http://127.0.0.1/")
  const transport = new HttpClientError.RequestError({ request, reason: "Transport" })
  const encode = new HttpClientError.RequestError({ request, reason: "Encode" })
  const invalidUrl = new HttpClientError.RequestError({ request, reason: "InvalidUrl" })
  it("classifies request errors by reason", () => {
    expect(HttpRetry.isRetryable(transport)).toBe(true)
    expect(HttpRetry.isRetryable(encode)).toBe(false)
    expect(HttpRetry.isRetryable(invalidUrl)).toBe(false)
    expect(HttpRetry.isRetryable(new Cause.TimeoutException())).toBe(true)
    expect(HttpRetry.isRetryable(new Error("x"))).toBe(false)
  })
  const statusError = (code: number, headers: Record<string, string> = {}) =>
    new HttpClientError.ResponseError({
      request,
      response: HttpClientResponse.fromWeb(request, new Response(null, { status: code, headers })),
      reason: "StatusCode"
    })
  it("retries 408, 425, 429 and the 5xx that are transient, never other 4xx, 501 or 505", () => {
    for (const code of [408, 425, 429, 500, 502, 503, 504, 529]) expect(HttpRetry.isRetryable(statusError(code))).toBe(true)
    for (const code of [400, 401, 403, 404, 409, 422, 501, 505]) expect(HttpRetry.isRetryable(statusError(code))).toBe(false)
    expect(HttpRetry.isRetryable(statusError(400, { "x-should-retry": "true" }))).toBe(true)
    expect(HttpRetry.isRetryable(statusError(503, { "x-should-retry": "false" }))).toBe(false)
  })
  it("reads x-should-retry sent twice (joined with \", \" by undici and fetch) when both say the same", () => {
    expect(HttpRetry.isRetryable(statusError(503, { "x-should-retry": "false, false" }))).toBe(false)
    expect(HttpRetry.isRetryable(statusError(400, { "x-should-retry": "true,true" }))).toBe(true)
    // Two answers that disagree say nothing: the status decides.
    expect(HttpRetry.isRetryable(statusError(503, { "x-should-retry": "true, false" }))).toBe(true)
    expect(HttpRetry.isRetryable(statusError(400, { "x-should-retry": "false, true" }))).toBe(false)
  })
  it("retries a body read cut by a lost connection, not a parse failure", () => {
    const response = HttpClientResponse.fromWeb(request, new Response("{}"))
    const decode = (cause: unknown) => new HttpClientError.ResponseError({ request, response, reason: "Decode", cause })
    const reset = Object.assign(new Error("aborted"), { code: "ECONNRESET" })
    const undici = Object.assign(new Error("other side closed"), { name: "SocketError", code: "UND_ERR_SOCKET" })
    const fetchTerminated = new TypeError("terminated", { cause: undici })
    expect(HttpRetry.isRetryable(decode(reset))).toBe(true)
    expect(HttpRetry.isRetryable(decode(undici))).toBe(true)
    expect(HttpRetry.isRetryable(decode(fetchTerminated))).toBe(true)
    expect(HttpRetry.isRetryable(decode(new SyntaxError("Unexpected token")))).toBe(false)
    expect(HttpRetry.isRetryable(new HttpClientError.ResponseError({ request, response, reason: "EmptyBody" }))).toBe(false)
  })
})
