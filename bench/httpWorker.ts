/**
 * One process of the HTTP benchmark (see http.ts): starts a loopback server,
 * runs a set of clients in rounds of `requests` requests, `concurrency` at a
 * time, and prints each client's requests per second for every round as JSON.
 * The "goal" set is the bare client, the bare client again (the control) and
 * withRetry; the "reference" set is the bare client and Effect's own
 * `HttpClient.retryTransient`.
 * Usage: node --import tsx bench/httpWorker.ts <rounds> <requests> <concurrency> <goal|reference>
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { HttpRetry, RetryPolicy } from "./library.js"

/** The clients of each set, in the order their rates are printed. */
export const clientSets = {
  goal: ["bare", "control", "retry"],
  reference: ["bare", "transient"]
} as const
export type ClientSet = keyof typeof clientSets
export type WorkerRates<S extends ClientSet> = Record<typeof clientSets[S][number], Array<number>>

/**
 * The orders the clients of a set run in, taken in turn: with three, the six
 * orders, so that over six rounds each runs first, second and third, and
 * after each other, equally often; with two, both orders.
 */
const ordersOf: Record<ClientSet, ReadonlyArray<ReadonlyArray<number>>> = {
  goal: [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]],
  reference: [[0, 1], [1, 0]]
}

const clientsOf = (set: ClientSet, bare: HttpClient.HttpClient): ReadonlyArray<HttpClient.HttpClient> =>
  set === "goal"
    // The control is the bare client itself, run as a client of its own:
    // its ratio to "bare" is what the method reads when nothing differs.
    ? [bare, bare, bare.pipe(HttpRetry.withRetry(RetryPolicy.default))]
    // Two retries, as RetryPolicy.default's three attempts.
    : [bare, HttpClient.retryTransient(bare, { times: 2 })]

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

const measure = async <S extends ClientSet>(
  set: S,
  rounds: number,
  requests: number,
  concurrency: number
): Promise<WorkerRates<S>> => {
  const orders = ordersOf[set]
  const names: ReadonlyArray<string> = clientSets[set]
  if (rounds % orders.length !== 0) throw new Error(`rounds must be a multiple of ${orders.length}, so that every order runs as often`)
  const server = await listen()
  const rates: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  try {
    await Effect.runPromise(
      Effect.gen(function*() {
        const clients = clientsOf(set, yield* HttpClient.HttpClient)
        for (const client of clients) yield* burst(client, server.url, 500, concurrency) // connections and the JIT
        for (let round = 0; round < rounds; round++) {
          for (const index of orders[round % orders.length]!) {
            const start = performance.now()
            yield* burst(clients[index]!, server.url, requests, concurrency)
            rates[names[index]!]!.push(requests / ((performance.now() - start) / 1000))
          }
        }
      }).pipe(Effect.provide(NodeHttpClient.layerUndici))
    )
  } finally {
    await server.close()
  }
  return rates as WorkerRates<S>
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [rounds, requests, concurrency] = process.argv.slice(2, 5).map(Number)
  const set = process.argv[5]
  if (set !== "goal" && set !== "reference") throw new Error(`unknown client set ${set}`)
  const rates = await measure(set, rounds!, requests!, concurrency!)
  process.stdout.write(JSON.stringify(rates))
}
