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
