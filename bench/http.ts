/**
 * HTTP benchmark: requests per second against a loopback server for a bare
 * client and for the same client under `HttpRetry.withRetry`, when every
 * request succeeds.
 *
 * Method. On this kind of machine loopback throughput moves more from one
 * process to the next than withRetry costs (the bare client alone, in six
 * fresh processes: 3466 to 5259 req/s), and within one process a client's
 * place in the round moves it by a few percent. So:
 * - `processes` fresh Node processes run one after the other (httpWorker.ts),
 *   each with its own loopback server;
 * - each runs three clients: the bare client, the bare client again (the
 *   control), and the bare client under withRetry, in rounds that go through
 *   the six orders of the three in turn;
 * - a figure is the median, over every round of every process, of a client's
 *   rate divided by the bare client's rate in the same round. The control's
 *   figure shows what the method reads when nothing differs.
 *
 * What it cannot remove: garbage a client leaves is partly collected while
 * the next client runs, and the client after withRetry is always another
 * one, so withRetry's extra garbage slows the bare client and the control a
 * little, which lifts withRetry's ratio; the control, being the bare client,
 * cannot show that. Collecting garbage before every burst (tried, with
 * `--expose-gc`) halved every rate, so it measured something else. The
 * server runs in the same process as the clients, as before.
 *
 * For reference, Effect's own `HttpClient.retryTransient` is measured against
 * the bare client the same way, in two more processes of its own (its garbage
 * would slow the goal's clients).
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { median } from "./core.js"
import type { ClientSet, WorkerRates } from "./httpWorker.js"

export interface HttpResult {
  /** Median rate of the bare client over all rounds, req/s. */
  readonly bare: number
  readonly retry: number
  /** withRetry / bare, median of the per-round ratios. */
  readonly ratio: number
  /** control / bare, median of the per-round ratios: the method's reading of no difference. */
  readonly control: number
  /** The per-process medians of withRetry / bare. */
  readonly perProcess: ReadonlyArray<number>
  readonly processes: number
  readonly rounds: number
  readonly requests: number
  readonly concurrency: number
}

const worker = fileURLToPath(new URL("./httpWorker.ts", import.meta.url))

const runWorker = <S extends ClientSet>(set: S, rounds: number, requests: number, concurrency: number) =>
  new Promise<WorkerRates<S>>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", worker, String(rounds), String(requests), String(concurrency), set],
      { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => (error === null ? resolve(JSON.parse(stdout) as WorkerRates<S>) : reject(error))
    )
  })

const ratios = (rates: ReadonlyArray<number>, bare: ReadonlyArray<number>) => rates.map((rate, i) => rate / bare[i]!)

export const httpThroughput = async (
  { concurrency = 16, processes = 4, requests = 500, rounds = 24 } = {}
): Promise<HttpResult> => {
  const all: WorkerRates<"goal"> = { bare: [], control: [], retry: [] }
  const perProcess: Array<number> = []
  for (let i = 0; i < processes; i++) {
    const rates = await runWorker("goal", rounds, requests, concurrency)
    perProcess.push(median(ratios(rates.retry, rates.bare)))
    all.bare.push(...rates.bare)
    all.control.push(...rates.control)
    all.retry.push(...rates.retry)
  }
  return {
    bare: median(all.bare),
    retry: median(all.retry),
    ratio: median(ratios(all.retry, all.bare)),
    control: median(ratios(all.control, all.bare)),
    perProcess,
    processes,
    rounds,
    requests,
    concurrency
  }
}

/** Effect's own retry middleware on the same path, for reference: `HttpClient.retryTransient` / bare. */
export interface ReferenceResult {
  /** retryTransient / bare, median of the per-round ratios. */
  readonly ratio: number
  readonly perProcess: ReadonlyArray<number>
  readonly processes: number
  readonly rounds: number
}

/**
 * The same measurement for `HttpClient.retryTransient({ times: 2 })`, in
 * processes of its own: its garbage would otherwise be collected while the
 * clients of the goal run, and slow them.
 */
export const transientReference = async (
  { concurrency = 16, processes = 2, requests = 500, rounds = 12 } = {}
): Promise<ReferenceResult> => {
  const all: Array<number> = []
  const perProcess: Array<number> = []
  for (let i = 0; i < processes; i++) {
    const rates = await runWorker("reference", rounds, requests, concurrency)
    const perRound = ratios(rates.transient, rates.bare)
    perProcess.push(median(perRound))
    all.push(...perRound)
  }
  return { ratio: median(all), perProcess, processes, rounds }
}
