import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as RetryBudget from "../RetryBudget.js"
import * as Validate from "./validate.js"

/** The resolved numbers of a token bucket and its two rules, shared by the in-memory and the Redis buckets. */
export interface TokenBucketPlan {
  readonly capacity: number
  readonly retryCost: number
  readonly timeoutCost: number
  readonly successRefund: number
  /** What a retry of this kind costs. */
  readonly costOf: (kind: RetryBudget.RetryKind) => number
  /** What a success gives back: what its retries cost, or `successRefund` for a first-attempt success. */
  readonly refundOf: (spent: number) => number
}

const TOKEN_BUCKET_KEYS = ["capacity", "retryCost", "timeoutCost", "successRefund"] as const

/** Decodes token bucket options; `extraKeys` are further options the caller reads itself. */
export const tokenBucketPlan = (
  options: RetryBudget.TokenBucketOptions,
  extraKeys: ReadonlyArray<string> = []
): TokenBucketPlan => {
  Validate.knownKeys("", Validate.record("options", options), [...TOKEN_BUCKET_KEYS, ...extraKeys])
  const capacity = Validate.numberAtLeast("capacity", options.capacity ?? 500, 0)
  const retryCost = Validate.numberAtLeast("retryCost", options.retryCost ?? 5, 0)
  const timeoutCost = Validate.numberAtLeast("timeoutCost", options.timeoutCost ?? 10, 0)
  const successRefund = Validate.numberAtLeast("successRefund", options.successRefund ?? 1, 0)
  return {
    capacity,
    retryCost,
    timeoutCost,
    successRefund,
    costOf: (kind) => kind === "timeout" ? timeoutCost : retryCost,
    refundOf: (spent) => spent > 0 ? spent : successRefund
  }
}

/** The number of slots a ratio budget's window is kept in. */
export const SLOTS = 10

/** The resolved numbers of a ratio budget. */
export interface RatioPlan {
  readonly percent: number
  readonly windowMillis: number
  readonly minPerSecond: number
  readonly slotMillis: number
  /** Retries allowed over the window whatever the traffic: `minPerSecond` times the window in seconds. */
  readonly reserve: number
  /** The slot that `now` (epoch ms) falls in. */
  readonly slotAt: (now: number) => number
  /** Retries allowed over the window for `requests` requests. */
  readonly capacityOf: (requests: number) => number
}

const RATIO_KEYS = ["percent", "window", "minPerSecond"] as const

/** Decodes ratio options; `extraKeys` are further options the caller reads itself. */
export const ratioPlan = (options: RetryBudget.RatioOptions, extraKeys: ReadonlyArray<string> = []): RatioPlan => {
  Validate.knownKeys("", Validate.record("options", options), [...RATIO_KEYS, ...extraKeys])
  const percent = Validate.numberAtLeast("percent", options.percent ?? 20, 0)
  const windowMillis = Validate.millisAbove("window", options.window ?? "10 seconds", 0)
  const minPerSecond = Validate.numberAtLeast("minPerSecond", options.minPerSecond ?? 10, 0)
  const slotMillis = windowMillis / SLOTS
  const reserve = minPerSecond * (windowMillis / 1000)
  return {
    percent,
    windowMillis,
    minPerSecond,
    slotMillis,
    reserve,
    slotAt: (now) => Math.floor(now / slotMillis),
    capacityOf: (requests) => Math.floor((requests * percent) / 100 + reserve)
  }
}

/** The body of `RetryBudget.make`. */
export const make = (rules: RetryBudget.Rules): RetryBudget.Service => {
  // Called as methods of `rules`, so that rules written as a class work too.
  const unsafeRequest = rules.request === undefined ? undefined : (now: number) => rules.request!(now)
  const unsafeSucceeded = rules.succeeded === undefined ? undefined : (spent: number) => rules.succeeded!(spent)
  return {
    request: unsafeRequest === undefined
      ? Effect.void
      : Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => unsafeRequest(now))),
    withdraw: (kind) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => rules.withdraw(kind, now))),
    succeeded: (spent) => unsafeSucceeded === undefined ? Effect.void : Effect.sync(() => unsafeSucceeded(spent)),
    snapshot: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => rules.snapshot(now))),
    unsafeRequest,
    unsafeSucceeded
  }
}

/** The body of `RetryBudget.makeTokenBucket`. */
export const makeTokenBucket = (options: RetryBudget.TokenBucketOptions = {}): Effect.Effect<RetryBudget.Service> => {
  const plan = tokenBucketPlan(options)
  return Effect.sync(() => {
    let available = plan.capacity
    return make({
      withdraw: (kind) => {
        const cost = plan.costOf(kind)
        if (available < cost) return Option.none()
        available -= cost
        return Option.some(cost)
      },
      succeeded: (spent) => {
        available = Math.min(plan.capacity, available + plan.refundOf(spent))
      },
      snapshot: () => ({ available, capacity: plan.capacity })
    })
  })
}

/**
 * Counts of requests and retries in `SLOTS` slots of `window / SLOTS` each; a
 * slot is reused once its time has left the window, so memory stays constant.
 */
class Window {
  readonly slot = Array.from({ length: SLOTS }, () => -1)
  readonly requests = Array.from({ length: SLOTS }, () => 0)
  readonly retries = Array.from({ length: SLOTS }, () => 0)

  /** The index of the slot for `slotIndex`, emptied first if it held an older slot. */
  current(slotIndex: number): number {
    const at = slotIndex % SLOTS
    if (this.slot[at] !== slotIndex) {
      this.slot[at] = slotIndex
      this.requests[at] = 0
      this.retries[at] = 0
    }
    return at
  }

  totals(slotIndex: number): { readonly requests: number; readonly retries: number } {
    let requests = 0
    let retries = 0
    for (let i = 0; i < SLOTS; i++) {
      if (this.slot[i]! > slotIndex - SLOTS) {
        requests += this.requests[i]!
        retries += this.retries[i]!
      }
    }
    return { requests, retries }
  }
}

/** The body of `RetryBudget.makeRatio`. */
export const makeRatio = (options: RetryBudget.RatioOptions = {}): Effect.Effect<RetryBudget.Service> => {
  const plan = ratioPlan(options)
  return Effect.sync(() => {
    const window = new Window()
    // A clock stepped back (NTP, a resumed VM) is read as standing still until
    // it catches up: an older slot must never take the place of a newer one
    // and wipe the retries counted there.
    let latest = -Infinity
    const slotAt = (now: number): number => latest = Math.max(latest, plan.slotAt(now))
    const snapshotAt = (slot: number): RetryBudget.Snapshot => {
      const { requests, retries } = window.totals(slot)
      const capacity = plan.capacityOf(requests)
      return { available: Math.max(0, capacity - retries), capacity }
    }
    return make({
      request: (now) => {
        const slot = slotAt(now)
        window.requests[window.current(slot)]! += 1
      },
      withdraw: (_, now) => {
        const slot = slotAt(now)
        if (snapshotAt(slot).available < 1) return Option.none()
        window.retries[window.current(slot)]! += 1
        return Option.some(1)
      },
      snapshot: (now) => snapshotAt(slotAt(now))
    })
  })
}
