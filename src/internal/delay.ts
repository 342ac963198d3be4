/**
 * The arithmetic of retry delays, in milliseconds, shared by the Schedule
 * combinators and by `Retry.retry`. Random draws are passed in as numbers in
 * [0, 1) so that every function here is pure.
 */

import type * as RetryDecision from "../RetryDecision.js"
import type { Jitter, WhenAboveMax } from "../RetrySchedule.js"

export type { Jitter, WhenAboveMax }

/** Resolved Retry-After rules (milliseconds). */
export type HintRules = RetryDecision.HintRules

/** `base · factor^(retry - 1)` for the 1-based retry number. */
export const exponentialMillis = (baseMillis: number, factor: number, retry: number): number =>
  baseMillis * Math.pow(factor, retry - 1)

/** `a · b` where 0 · ∞ is 0: a zero draw of a delay that overflowed to ∞ is still no delay. */
const times = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : a * b)

/** Whether a jitter kind needs a random draw. */
export const jitterDraws = (jitter: Jitter): boolean => jitter !== "none"

/**
 * Applies jitter to an exponential delay. `previous` is the delay used before
 * the last retry (the base before the first), which only decorrelated jitter reads.
 */
export const jitterMillis = (
  jitter: Jitter,
  millis: number,
  draw: number,
  baseMillis: number,
  previousMillis: number,
  capMillis: number
): number => {
  switch (jitter) {
    case "none":
      return millis
    case "full":
      return times(draw, millis)
    case "equal":
      return millis / 2 + times(draw, millis / 2)
    case "decorrelated": {
      const upper = Math.max(baseMillis, 3 * previousMillis)
      return Math.min(capMillis, baseMillis + draw * (upper - baseMillis))
    }
    default:
      return times(millis, jitter.min + draw * (jitter.max - jitter.min))
  }
}

/** The outcome of looking at a Retry-After hint. */
export type HintDecision =
  | { readonly _tag: "UseBackoff" }
  | { readonly _tag: "Wait"; readonly millis: number }
  | { readonly _tag: "TooLong"; readonly hintMillis: number }

const useBackoff: HintDecision = { _tag: "UseBackoff" }

/** Whether applying a hint needs a random draw (for the spread). */
export const hintDraws = (rules: HintRules, hintMillis: number): boolean =>
  rules.spread > 0 && hintMillis > 0 && hintMillis <= rules.maxMillis

/**
 * Decides the delay for a Retry-After hint: never earlier than the hint, plus up
 * to `spread · hint` so that clients told the same instant spread out.
 */
export const hintDecision = (rules: HintRules, hintMillis: number, draw: number): HintDecision => {
  if (hintMillis <= rules.maxMillis) {
    return { _tag: "Wait", millis: hintMillis + draw * rules.spread * hintMillis }
  }
  switch (rules.whenAboveMax) {
    case "fail":
      return { _tag: "TooLong", hintMillis }
    case "clamp":
      return { _tag: "Wait", millis: rules.maxMillis }
    case "ignore":
      return useBackoff
  }
}

/** True when sleeping `delay` after `elapsed` would end past the total budget `maxElapsed`. */
export const overshoots = (elapsedMillis: number, delayMillis: number, maxElapsedMillis: number): boolean =>
  elapsedMillis + delayMillis > maxElapsedMillis
