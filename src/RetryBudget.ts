/**
 * Shared retry budgets. Retries multiply load exactly when a service is
 * weakest (three attempts at each of three layers is 27x); a budget caps the
 * retries that many calls may take together, the way AWS SDKs (retry quota),
 * gRPC (retry throttling), Finagle and Envoy (retry budgets) do. Provide one
 * per downstream service: every `Retry.retry` and `HttpRetry.withRetry` in its
 * scope draws on it. When the budget says no, the call fails with its last
 * error and a `GaveUp` event with reason `"budget"`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Validate from "./internal/validate.js"

/**
 * What a retry is drawn for: `"timeout"` after a timed-out attempt (which may
 * cost more), `"error"` after any other failure.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const kind: RetryBudget.RetryKind = "timeout"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RetryKind = "error" | "timeout"

/**
 * A snapshot of a budget, for dashboards and tests.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const snapshot: RetryBudget.Snapshot = { available: 495, capacity: 500 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  /** Retries (ratio) or tokens (token bucket) available now. */
  readonly available: number
  readonly capacity: number
}

/**
 * The budget service. Every method is safe to call from many fibers at once.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import type { RetryBudget } from "effect-retry"
 *
 * // A budget that never says no.
 * const unlimited: RetryBudget.Service = {
 *   request: Effect.void,
 *   withdraw: () => Effect.succeed(Option.some(0)),
 *   succeeded: () => Effect.void,
 *   snapshot: Effect.succeed({ available: Infinity, capacity: Infinity })
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** A call is starting its first attempt. */
  readonly request: Effect.Effect<void>
  /** Asks for one retry: `Some(tokens taken)` when it may be taken, `None` when the budget is spent. */
  readonly withdraw: (kind: RetryKind) => Effect.Effect<Option.Option<number>>
  /** A call succeeded; `spent` is what its retries withdrew (0 when the first attempt succeeded). */
  readonly succeeded: (spent: number) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<Snapshot>
}

/**
 * The budget in scope. `Retry.retry` and `HttpRetry.withRetry` use it when it
 * is provided; nothing changes when it is not.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * const available = Effect.flatMap(RetryBudget.RetryBudget, (budget) => budget.snapshot)
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RetryBudget extends Context.Tag("effect-retry/RetryBudget")<RetryBudget, Service>() {}

/**
 * Options of `tokenBucket`.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const options: RetryBudget.TokenBucketOptions = { capacity: 100, retryCost: 5 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenBucketOptions {
  /** Tokens when full. Default 500. */
  readonly capacity?: number | undefined
  /** Tokens a retry costs. Default 5. */
  readonly retryCost?: number | undefined
  /** Tokens a retry after a timeout costs. Default 10. */
  readonly timeoutCost?: number | undefined
  /** Tokens a first-attempt success gives back. Default 1. */
  readonly successRefund?: number | undefined
}

/**
 * Options of `ratio`.
 *
 * @example
 * ```ts
 * import type { RetryBudget } from "effect-retry"
 *
 * const options: RetryBudget.RatioOptions = { percent: 10, window: "30 seconds", minPerSecond: 5 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RatioOptions {
  /** Retries allowed, as a percentage of requests in the window. Default 20. */
  readonly percent?: number | undefined
  /** The sliding window. Default 10 seconds. */
  readonly window?: import("effect/Duration").DurationInput | undefined
  /** Retries per second allowed whatever the traffic. Default 10. */
  readonly minPerSecond?: number | undefined
}

const clamp = (value: number, max: number) => Math.min(value, max)

/**
 * Builds an AWS-style token bucket (the "standard" retry mode's retry quota):
 * a retry withdraws `retryCost` tokens (`timeoutCost` after a timeout) and is
 * refused when too few are left; a call that succeeds after retries puts back
 * what its retries took, a first-attempt success adds `successRefund`, never
 * above `capacity`. Invalid options throw `RetryPolicy.InvalidRetryPolicy`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.makeTokenBucket({ capacity: 50 })
 *   return yield* budget.withdraw("error") // Some(5)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeTokenBucket = (options: TokenBucketOptions = {}): Effect.Effect<Service> => {
    Validate.knownKeys("", Validate.record("options", options), ["capacity", "retryCost", "timeoutCost", "successRefund"])
    const capacity = Validate.numberAtLeast("capacity", options.capacity ?? 500, 0)
    const retryCost = Validate.numberAtLeast("retryCost", options.retryCost ?? 5, 0)
    const timeoutCost = Validate.numberAtLeast("timeoutCost", options.timeoutCost ?? 10, 0)
    const successRefund = Validate.numberAtLeast("successRefund", options.successRefund ?? 1, 0)
    return Effect.map(Ref.make(capacity), (tokens): Service => ({
      request: Effect.void,
      withdraw: (kind) => {
        const cost = kind === "timeout" ? timeoutCost : retryCost
        return Ref.modify(tokens, (available) =>
          available >= cost ? [Option.some(cost), available - cost] : [Option.none(), available])
      },
      succeeded: (spent) => Ref.update(tokens, (available) => clamp(available + (spent > 0 ? spent : successRefund), capacity)),
      snapshot: Effect.map(Ref.get(tokens), (available) => ({ available, capacity }))
    }))
}

const SLOTS = 10

interface Window {
  /** The slot index (time / slot length) each entry belongs to. */
  readonly slot: ReadonlyArray<number>
  readonly requests: ReadonlyArray<number>
  readonly retries: ReadonlyArray<number>
}

const emptyWindow: Window = {
  slot: Array.from({ length: SLOTS }, () => -1),
  requests: Array.from({ length: SLOTS }, () => 0),
  retries: Array.from({ length: SLOTS }, () => 0)
}

/** The window with the slot for `slotIndex` current (reset when it held an older slot). */
const advance = (window: Window, slotIndex: number): Window => {
  const at = slotIndex % SLOTS
  if (window.slot[at] === slotIndex) return window
  const slot = window.slot.slice()
  const requests = window.requests.slice()
  const retries = window.retries.slice()
  slot[at] = slotIndex
  requests[at] = 0
  retries[at] = 0
  return { slot, requests, retries }
}

const add = (window: Window, slotIndex: number, field: "requests" | "retries"): Window => {
  const current = advance(window, slotIndex)
  const values = current[field].slice()
  values[slotIndex % SLOTS]! += 1
  return { ...current, [field]: values }
}

const totals = (window: Window, slotIndex: number) => {
  let requests = 0
  let retries = 0
  for (let i = 0; i < SLOTS; i++) {
    if (window.slot[i]! > slotIndex - SLOTS) {
      requests += window.requests[i]!
      retries += window.retries[i]!
    }
  }
  return { requests, retries }
}

/**
 * Builds a Finagle-style ratio budget: over a sliding `window`, retries may be
 * at most `percent` % of requests, plus `minPerSecond` retries per second so
 * that a quiet client can still retry. The window is kept in ten slots, so
 * memory does not grow with traffic. Invalid options throw
 * `RetryPolicy.InvalidRetryPolicy`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-retry"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.makeRatio({ percent: 20, minPerSecond: 0 })
 *   for (let i = 0; i < 10; i++) yield* budget.request
 *   return yield* budget.snapshot // { available: 2, ... }
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRatio = (options: RatioOptions = {}): Effect.Effect<Service> => {
    Validate.knownKeys("", Validate.record("options", options), ["percent", "window", "minPerSecond"])
    const percent = Validate.numberAtLeast("percent", options.percent ?? 20, 0)
    const windowMillis = Validate.millisAbove("window", options.window ?? "10 seconds", 0)
    const minPerSecond = Validate.numberAtLeast("minPerSecond", options.minPerSecond ?? 10, 0)
    const slotMillis = windowMillis / SLOTS
    const reserve = minPerSecond * (windowMillis / 1000)
    const allowance = (window: Window, slotIndex: number) => {
      const { requests, retries } = totals(window, slotIndex)
      return Math.max(0, Math.floor((requests * percent) / 100 + reserve - retries))
    }
    return Effect.map(Ref.make(emptyWindow), (state): Service => {
      const slotNow = Effect.map(Clock.currentTimeMillis, (now) => Math.floor(now / slotMillis))
      return {
        request: Effect.flatMap(slotNow, (slot) => Ref.update(state, (window) => add(window, slot, "requests"))),
        withdraw: () =>
          Effect.flatMap(slotNow, (slot) =>
            Ref.modify(state, (window) =>
              allowance(window, slot) >= 1
                ? [Option.some(1), add(window, slot, "retries")]
                : [Option.none(), window])),
        succeeded: () => Effect.void,
        snapshot: Effect.flatMap(slotNow, (slot) =>
          Effect.map(Ref.get(state), (window) => ({
            available: allowance(window, slot),
            capacity: Math.floor((totals(window, slot).requests * percent) / 100 + reserve)
          })))
      }
    })
}

/**
 * A layer with a token bucket budget (see `makeTokenBucket`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryBudget, RetryPolicy } from "effect-retry"
 *
 * const program = Effect.fail({ isRetryable: true }).pipe(
 *   Retry.retry(RetryPolicy.default),
 *   Effect.provide(RetryBudget.tokenBucket())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const tokenBucket = (options?: TokenBucketOptions): Layer.Layer<RetryBudget> =>
  Layer.effect(RetryBudget, makeTokenBucket(options))

/**
 * A layer with a ratio budget (see `makeRatio`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryBudget, RetryPolicy } from "effect-retry"
 *
 * const program = Effect.fail({ isRetryable: true }).pipe(
 *   Retry.retry(RetryPolicy.default),
 *   Effect.provide(RetryBudget.ratio({ percent: 10 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const ratio = (options?: RatioOptions): Layer.Layer<RetryBudget> => Layer.effect(RetryBudget, makeRatio(options))
