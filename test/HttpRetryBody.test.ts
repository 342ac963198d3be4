/**
 * Request bodies under HttpRetry.withRetry, on node:http, undici and fetch: a
 * body that cannot be sent again byte for byte is never retried (unless the
 * caller opted in to buffering it), and a replayable body is retried with the
 * same bytes.
 */
import { HttpBody, HttpClient, HttpClientError, HttpClientRequest, HttpServerResponse } from "@effect/platform"
import { NodeStream } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import { Readable } from "node:stream"
import { FormData as UndiciFormData } from "undici"
import { RetryPolicy } from "../src/index.js"
import { HttpRetry } from "../src/http/index.js"
import { collectEvents } from "./helpers.js"
import { clients, TestServer, TestServerLive } from "./support/server.js"

const fast = RetryPolicy.make({ baseDelay: "10 millis", maxDelay: "50 millis", jitter: "none" })

const recorder = collectEvents

const payload = "line one\nline two\n"
const encoder = new TextEncoder()

/** A one-shot async iterator: it yields its chunks once, then nothing. */
const oneShotIterable = (parts: ReadonlyArray<string>): AsyncIterable<Uint8Array> => {
  const iterator = (async function*() {
    for (const part of parts) yield encoder.encode(part)
  })()
  return { [Symbol.asyncIterator]: () => iterator }
}

const iteratorBody = () =>
  HttpBody.stream(Stream.fromAsyncIterable(oneShotIterable(["line one\n", "line two\n"]), (e) => e), "text/plain")

const readableBody = () => {
  const readable = Readable.from([Buffer.from("line one\n"), Buffer.from("line two\n")])
  return HttpBody.stream(NodeStream.fromReadable(() => readable, (e) => e), "text/plain")
}

for (const [name, clientLayer] of clients) {
  layer(Layer.mergeAll(TestServerLive, clientLayer), { excludeTestServices: true })(`request bodies on ${name}`, (it) => {
    /** Scripts the server to record each body and answer 503 to the first `failures` hits. */
    const recordBodies = (failures: number) =>
      Effect.gen(function*() {
        const server = yield* TestServer
        const bodies: Array<string> = []
        yield* server.script((request, hit) =>
          Effect.map(Effect.orDie(request.arrayBuffer), (body) => {
            bodies.push(Buffer.from(body).toString("latin1"))
            return hit <= failures
              ? HttpServerResponse.text("busy", { status: 503 })
              : HttpServerResponse.text("done", { status: 200 })
          })
        )
        return { server, bodies }
      })

    for (const [kind, makeBody] of [["an async iterator", iteratorBody], ["NodeStream.fromReadable", readableBody]] as const) {
      it.effect(`a PUT streaming ${kind} is sent once: the 503 comes back as it came`, () =>
        Effect.gen(function*() {
          const { bodies, server } = yield* recordBodies(1)
          const { events, onEvent } = recorder()
          const client = (yield* HttpClient.HttpClient).pipe(HttpRetry.withRetry(fast, { onEvent }))
          const response = yield* client.execute(HttpClientRequest.put(server.url()).pipe(HttpClientRequest.setBody(makeBody())))
          expect(response.status).toBe(503)
          expect(yield* response.text).toBe("busy")
          expect(bodies).toEqual([payload])
          expect(events).toMatchObject([{ _tag: "GaveUp", reason: "body-not-replayable", attempts: 1 }])
        }))

      it.effect(`a POST streaming ${kind} with idempotencyKey "auto" is sent once`, () =>
        Effect.gen(function*() {
          const { bodies, server } = yield* recordBodies(1)
          const { events, onEvent } = recorder()
          const client = (yield* HttpClient.HttpClient).pipe(
            HttpRetry.withRetry(fast, { onEvent, idempotencyKey: "auto" })
          )
          const response = yield* client.execute(HttpClientRequest.post(server.url()).pipe(HttpClientRequest.setBody(makeBody())))
          expect(response.status).toBe(503)
          expect(bodies).toEqual([payload])
          expect(events).toMatchObject([{ _tag: "GaveUp", reason: "body-not-replayable" }])
        }))

      it.effect(`bufferRequestBody replays ${kind} whole`, () =>
        Effect.gen(function*() {
          const { bodies, server } = yield* recordBodies(2)
          const client = (yield* HttpClient.HttpClient).pipe(
            HttpRetry.withRetry(fast, { bufferRequestBody: { maxBytes: 1024 } })
          )
          const response = yield* client.execute(HttpClientRequest.put(server.url()).pipe(HttpClientRequest.setBody(makeBody())))
          expect(response.status).toBe(200)
          expect(bodies).toEqual([payload, payload, payload])
        }))
    }

    it.effect("a stream body over bufferRequestBody's limit fails typed, nothing sent, never truncated", () =>
      Effect.gen(function*() {
        const { bodies } = yield* recordBodies(0)
        const server = yield* TestServer
        const client = (yield* HttpClient.HttpClient).pipe(
          HttpRetry.withRetry(fast, { bufferRequestBody: { maxBytes: 10 } })
        )
        const error = yield* Effect.flip(
          client.execute(HttpClientRequest.put(server.url()).pipe(HttpClientRequest.setBody(iteratorBody())))
        )
        expect(error).toBeInstanceOf(HttpClientError.RequestError)
        expect(error._tag === "RequestError" && error.reason).toBe("Encode")
        expect(error.message).toContain("bufferRequestBody")
        expect(bodies).toEqual([])
      }))

    it.effect("a stream body whose declared length is over the limit is sent once, not read into memory", () =>
      Effect.gen(function*() {
        const { bodies, server } = yield* recordBodies(1)
        const { events, onEvent } = recorder()
        const client = (yield* HttpClient.HttpClient).pipe(
          HttpRetry.withRetry(fast, { onEvent, bufferRequestBody: { maxBytes: 10 } })
        )
        const body = HttpBody.stream(
          Stream.fromAsyncIterable(oneShotIterable([payload]), (e) => e),
          "text/plain",
          payload.length
        )
        const response = yield* client.execute(HttpClientRequest.put(server.url()).pipe(HttpClientRequest.setBody(body)))
        expect(response.status).toBe(503)
        expect(bodies).toEqual([payload])
        expect(events).toMatchObject([{ _tag: "GaveUp", reason: "body-not-replayable" }])
      }))

    const bytes = new Uint8Array([0, 1, 2, 254, 255, 10, 13])
    // NodeHttpClient.layerUndici fails on the global FormData ("action is not a function",
    // bare client too): it needs undici's own class.
    const form = name === "undici" ? new UndiciFormData() as unknown as FormData : new FormData()
    form.append("field", "value")
    form.append("file", new Blob([bytes], { type: "application/octet-stream" }), "data.bin")
    const replayable: ReadonlyArray<readonly [string, (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest]> = [
      ["text", HttpClientRequest.bodyText("héllo wörld")],
      ["JSON", HttpClientRequest.bodyUnsafeJson({ model: "m", messages: [{ role: "user", content: "hi" }] })],
      ["Uint8Array", HttpClientRequest.bodyUint8Array(bytes)],
      ["form data", HttpClientRequest.bodyFormData(form)],
      ["a chunked Stream of known chunks (buffered)", HttpClientRequest.bodyStream(Stream.fromChunk(Chunk.make(bytes, bytes)))]
    ]
    for (const [kind, setBody] of replayable) {
      it.effect(`a PUT with a ${kind} body is retried with identical bytes`, () =>
        Effect.gen(function*() {
          const { bodies, server } = yield* recordBodies(2)
          const client = (yield* HttpClient.HttpClient).pipe(
            HttpRetry.withRetry(fast, { bufferRequestBody: { maxBytes: 1024 } })
          )
          const response = yield* client.execute(HttpClientRequest.put(server.url()).pipe(setBody))
          expect(response.status).toBe(200)
          expect(bodies).toHaveLength(3)
          expect(bodies[0]!.length).toBeGreaterThan(0)
          // Form data gets a fresh boundary per encoding; compare without it.
          const normalise = (body: string) => body.replace(/-{2,}[-\w]+/g, "--boundary")
          expect(bodies.map(normalise)).toEqual([normalise(bodies[0]!), normalise(bodies[0]!), normalise(bodies[0]!)])
        }))
    }
  })
}
