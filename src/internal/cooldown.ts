import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as RetryCooldown from "../RetryCooldown.js"

// Past this many keys, a record first drops the cool-downs that have ended.
const SWEEP_ABOVE = 1024

/**
 * Cool-downs of one process: key -> until (epoch ms of this process's clock).
 * The later of two untils wins; an ended cool-down is forgotten when met.
 */
export class Table {
  private readonly until = new Map<string, number>()

  /** Keeps `until` for `key` unless a later one is held. */
  set(key: string, until: number, now: number): void {
    if (this.until.size >= SWEEP_ABOVE) this.sweep(now)
    const held = this.until.get(key)
    if (held === undefined || held < until) this.until.set(key, until)
  }

  remaining(key: string, now: number): number {
    const until = this.until.get(key)
    if (until === undefined) return 0
    if (until <= now) {
      this.until.delete(key)
      return 0
    }
    return until - now
  }

  private sweep(now: number): void {
    for (const [key, until] of this.until) if (until <= now) this.until.delete(key)
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
