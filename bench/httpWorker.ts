/**
 * One process of the HTTP benchmark (see http.ts): starts a loopback server,
 * runs the three clients in rounds of `requests` requests, `concurrency` at a
 * time, and prints each client's requests per second for every round as JSON.
 * Usage: node --import tsx bench/httpWorker.ts <rounds> <requests> <concurrency>
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { HttpRetry, RetryPolicy } from "./library.js"

/** The clients compared, in the order their rates are printed. */
export const clientNames = ["bare", "control", "retry"] as const
export type ClientName = typeof clientNames[number]
export type WorkerRates = Record<ClientName, Array<number>>

/** The six orders of three clients: over six rounds each one runs first, second and third, and after each other, equally often. */
const orders: ReadonlyArray<ReadonlyArray<number>> = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]]

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

const measure = async (rounds: number, requests: number, concurrency: number): Promise<WorkerRates> => {
  if (rounds % orders.length !== 0) throw new Error(`rounds must be a multiple of ${orders.length}, so that every order runs as often`)
  const server = await listen()
  const rates: WorkerRates = { bare: [], control: [], retry: [] }
  try {
    await Effect.runPromise(
      Effect.gen(function*() {
        const bare = yield* HttpClient.HttpClient
        // The control is the bare client itself, run as a client of its own:
        // its ratio to "bare" is what the method reads when nothing differs.
        const clients = [bare, bare, bare.pipe(HttpRetry.withRetry(RetryPolicy.default))]
        for (const client of clients) yield* burst(client, server.url, 500, concurrency) // connections and the JIT
        for (let round = 0; round < rounds; round++) {
          for (const index of orders[round % orders.length]!) {
            const start = performance.now()
            yield* burst(clients[index]!, server.url, requests, concurrency)
            rates[clientNames[index]!].push(requests / ((performance.now() - start) / 1000))
          }
        }
      }).pipe(Effect.provide(NodeHttpClient.layerUndici))
    )
  } finally {
    await server.close()
  }
  return rates
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [rounds, requests, concurrency] = process.argv.slice(2).map(Number)
  const rates = await measure(rounds!, requests!, concurrency!)
  process.stdout.write(JSON.stringify(rates))
}
