/**
 * HTTP benchmark: requests per second against a loopback server for a bare
 * client and for the same client under `HttpRetry.withRetry`, when every
 * request succeeds. The two run in pairs, in an order that flips every round
 * (whichever runs second in a pair tends to be slower); the figures are the
 * medians over the rounds, and the ratio is the median of the per-round ratios.
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { performance } from "node:perf_hooks"
import { HttpRetry, RetryPolicy } from "./library.js"

export interface HttpResult {
  readonly bare: number
  readonly retry: number
  readonly ratio: number
  readonly rounds: number
  readonly requests: number
  readonly concurrency: number
}

const listen = () =>
  new Promise<{ readonly url: string; readonly close: () => Promise<void> }>((resolve) => {
    const server = createServer((_, response) => {
      response.writeHead(200, { "content-type": "text/plain", "content-length": "2" })
      response.end("ok")
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () => new Promise((done) => server.close(() => done()))
      })
    })
  })

const burst = (client: HttpClient.HttpClient, url: string, requests: number, concurrency: number) =>
  Effect.forEach(
    Array.from({ length: requests }),
    () => Effect.flatMap(client.get(url), (response) => response.arrayBuffer),
    { concurrency, discard: true }
  )

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export const httpThroughput = async (requests = 1_000, rounds = 20, concurrency = 16): Promise<HttpResult> => {
  const server = await listen()
  const bareRates: Array<number> = []
  const retryRates: Array<number> = []
  try {
    await Effect.runPromise(
      Effect.gen(function*() {
        const bare = yield* HttpClient.HttpClient
        const wrapped = bare.pipe(HttpRetry.withRetry(RetryPolicy.default))
        const rate = (client: HttpClient.HttpClient) =>
          Effect.suspend(() => {
            const start = performance.now()
            return Effect.map(
              burst(client, server.url, requests, concurrency),
              () => requests / ((performance.now() - start) / 1000)
            )
          })
        yield* burst(bare, server.url, 500, concurrency) // warm up connections and the JIT
        yield* burst(wrapped, server.url, 500, concurrency)
        for (let round = 0; round < rounds; round++) {
          if (round % 2 === 0) {
            bareRates.push(yield* rate(bare))
            retryRates.push(yield* rate(wrapped))
          } else {
            retryRates.push(yield* rate(wrapped))
            bareRates.push(yield* rate(bare))
          }
        }
      }).pipe(Effect.provide(NodeHttpClient.layerUndici))
    )
  } finally {
    await server.close()
  }
  return {
    bare: median(bareRates),
    retry: median(retryRates),
    ratio: median(retryRates.map((rate, i) => rate / bareRates[i]!)),
    rounds,
    requests,
    concurrency
  }
}
