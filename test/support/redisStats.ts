/**
 * Reads what a redis-server did from `INFO commandstats`: the number of calls
 * per command, so that tests and the bench can count the Redis commands a
 * retry or a success cost.
 */
import { Redis } from "ioredis"

/** Calls per command (lower case, `evalsha`, `get`, ...) since the server started. */
export const commandStats = async (client: Redis): Promise<Map<string, number>> => {
  const text = await client.info("commandstats")
  const stats = new Map<string, number>()
  for (const line of text.split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (match !== null) stats.set(match[1]!, Number(match[2]))
  }
  return stats
}

/**
 * Commands run between two readings, leaving out what connecting and
 * observing cost (`info`, `client|*`, `hello`, `select`, `ping`, `subscribe`,
 * `config|*`).
 */
export const commandsBetween = (before: Map<string, number>, after: Map<string, number>): Map<string, number> => {
  const ignored = /^(info|client\|.*|hello|select|ping|subscribe|config\|.*|script\|.*|publish)$/
  const diff = new Map<string, number>()
  for (const [name, calls] of after) {
    if (ignored.test(name)) continue
    const delta = calls - (before.get(name) ?? 0)
    if (delta > 0) diff.set(name, delta)
  }
  return diff
}

/**
 * Round trips to Redis in a `commandsBetween` result: script calls (EVAL,
 * EVALSHA) and plain GETs. commandstats also counts the commands that a script
 * runs inside the server (GET, SET, HINCRBY, ...), which are no round trips.
 */
export const scriptCalls = (diff: Map<string, number>): number => (diff.get("eval") ?? 0) + (diff.get("evalsha") ?? 0)

/** The sum of a `commandsBetween` result. */
export const total = (diff: Map<string, number>): number => [...diff.values()].reduce((a, b) => a + b, 0)

/** A plain client for a test's own reads (nothing queued while disconnected). */
export const observer = (port: number): Redis => {
  const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 0, enableOfflineQueue: true, lazyConnect: false })
  client.on("error", () => {})
  return client
}
