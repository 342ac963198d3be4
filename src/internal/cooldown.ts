import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as RetryCooldown from "../RetryCooldown.js"

// Past this many keys, a record first drops the cool-downs that have ended.
const SWEEP_ABOVE = 1024

/** A running cool-down: when it ends, and how long it was when recorded. */
interface Entry {
  until: number
  readonly millis: number
}

/**
 * Cool-downs of one process: key -> until (epoch ms of this process's clock).
 * The later of two untils wins; an ended cool-down is forgotten when met.
 */
export class Table {
  private readonly entries = new Map<string, Entry>()

  /** Keeps `until` for `key` unless a later one is held. */
  set(key: string, until: number, now: number): void {
    if (this.entries.size >= SWEEP_ABOVE) this.sweep(now)
    const held = this.entries.get(key)
    if (held === undefined || held.until < until) this.entries.set(key, { until, millis: until - now })
  }

  remaining(key: string, now: number): number {
    const entry = this.entries.get(key)
    if (entry === undefined) return 0
    if (entry.until <= now) {
      this.entries.delete(key)
      return 0
    }
    const left = entry.until - now
    if (left <= entry.millis) return left
    // More left than was recorded: the clock was stepped back (NTP, a resumed
    // VM). The cool-down starts again from now rather than grow by the step.
    entry.until = now + entry.millis
    return entry.millis
  }

  /** Every cool-down still running, with the time it has left. */
  running(now: number): Array<readonly [key: string, millis: number]> {
    const running: Array<readonly [string, number]> = []
    for (const key of [...this.entries.keys()]) {
      const left = this.remaining(key, now)
      if (left > 0) running.push([key, left])
    }
    return running
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.until <= now) this.entries.delete(key)
  }
}

/** The in-memory service: records and reads go to one `Table`. */
export const fromTable = (
  table: Table,
  onRecord?: (key: string, millis: number) => Effect.Effect<void>
): RetryCooldown.Service => ({
  record: (key, delay) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const millis = Duration.toMillis(delay)
      if (!(millis > 0)) return Effect.void
      table.set(key, now + millis, now)
      return onRecord === undefined ? Effect.void : onRecord(key, millis)
    }),
  remaining: (key) => Effect.map(Clock.currentTimeMillis, (now) => Duration.millis(table.remaining(key, now))),
  unsafeRemaining: (key, now) => table.remaining(key, now)
})

export const make: Effect.Effect<RetryCooldown.Service> = Effect.sync(() => fromTable(new Table()))
