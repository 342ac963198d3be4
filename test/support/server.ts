/**
 * A scripted loopback server for the HTTP tests: it listens on 127.0.0.1 on a
 * port of its own, counts hits, records each request's headers and arrival
 * time, and answers with whatever handler the test scripted.
 */
import { FetchHttpClient, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"
import { createServer } from "node:http"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"

export type Handler = (
  request: HttpServerRequest.HttpServerRequest,
  hit: number
) => Effect.Effect<HttpServerResponse.HttpServerResponse>

export interface Hit {
  readonly headers: Readonly<Record<string, string>>
  readonly method: string
  readonly url: string
  readonly at: number
}

export class TestServer extends Context.Tag("test/TestServer")<TestServer, {
  readonly url: (path?: string) => string
  readonly hits: () => ReadonlyArray<Hit>
  readonly script: (handler: Handler) => Effect.Effect<void>
}>() {}

export const TestServerLive = Layer.scoped(
  TestServer,
  Effect.gen(function*() {
    let hits: Array<Hit> = []
    let handler: Handler = () => Effect.succeed(HttpServerResponse.text("ok"))
    yield* HttpServer.serveEffect(Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      hits.push({ headers: { ...request.headers }, method: request.method, url: request.url, at: performance.now() })
      return handler(request, hits.length)
    }))
    const base = yield* HttpServer.addressFormattedWith(Effect.succeed)
    return {
      url: (path = "/") => `${base}${path}`,
      hits: () => hits,
      script: (next: Handler) =>
        Effect.sync(() => {
          hits = []
          handler = next
        })
    }
  })
).pipe(Layer.provide(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })))

/** The three client layers every HTTP test runs against. */
export const clients = [
  ["node:http", NodeHttpClient.layer],
  ["undici", NodeHttpClient.layerUndici],
  ["fetch", FetchHttpClient.layer]
] as const

/** A loopback port that nothing listens on, for connection-refused tests. */
export const closedPort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Answers with headers and the start of a body, then destroys the socket. */
export const cutMidBody: Handler = (request) =>
  Effect.sync(() => {
    const response = NodeHttpServerRequest.toServerResponse(request)
    response.writeHead(200, { "content-type": "application/json", "content-length": "1000" })
    response.write("{\"partial\":", () => response.socket?.destroy())
  }).pipe(Effect.zipRight(Effect.never))

/** A response with a status and optional headers. */
export const status = (code: number, headers: Record<string, string> = {}, body = `status ${code}`) =>
  Effect.succeed(HttpServerResponse.text(body, { status: code, headers }))
