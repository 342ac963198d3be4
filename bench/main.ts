/**
 * `npm run bench`: prints every benchmark of this run as a table, with ratios
 * between rows of the same run. Speed is never asserted in tests.
 */
import { perRetry, successPath } from "./core.js"
import { httpThroughput } from "./http.js"
import type { Row } from "./core.js"

const table = (title: string, rows: ReadonlyArray<Row>, reference: string) => {
  const ref = rows.find((row) => row.name === reference)!.nsPerOp
  console.log(`\n${title}`)
  for (const row of rows) {
    console.log(`  ${row.name.padEnd(56)} ${row.nsPerOp.toFixed(0).padStart(8)} ns  ${(row.nsPerOp / ref).toFixed(3)}x`)
  }
}

const main = async () => {
  console.log(`node ${process.version}`)
  const success = await successPath()
  table("Success path (ns per call; ratio to Effect.retry(toSchedule(policy)))", success, "Effect.retry(toSchedule(policy))")
  const bare = success[0]!.nsPerOp
  const retryRow = success.find((row) => row.name === "Retry.retry(policy)")!
  const effectRow = success.find((row) => row.name === "Effect.retry(toSchedule(policy))")!
  console.log(
    `  cost over bare: Retry.retry ${(retryRow.nsPerOp - bare).toFixed(0)} ns, Effect.retry ${(effectRow.nsPerOp - bare).toFixed(0)} ns; ` +
      `Retry.retry / Effect.retry = ${(retryRow.nsPerOp / effectRow.nsPerOp).toFixed(3)}x (goal <= 0.15x)`
  )
  const retries = await perRetry()
  table("Per retry with zero delays (ns per retry; ratio to Effect.retry(recurs))", retries, "Effect.retry(Schedule.recurs) per retry")
  const http = await httpThroughput()
  console.log(
    `\nHTTP on loopback (undici client), every request succeeds: median of ${http.rounds} paired rounds of ${http.requests} requests, ${http.concurrency} at a time`
  )
  console.log(`  ${"bare client".padEnd(56)} ${http.bare.toFixed(0).padStart(8)} req/s`)
  console.log(`  ${"same client under HttpRetry.withRetry".padEnd(56)} ${http.retry.toFixed(0).padStart(8)} req/s`)
  console.log(`  withRetry / bare, median of per-round ratios: ${http.ratio.toFixed(3)}x (goal >= 0.95x)`)
}

main()
