/**
 * TEMPORARY (issue 10 → issue 9): the three delay formulas `explain` and the
 * simulator need, until the library publishes its decision core as the public
 * module `RetryDecision` (issue 9). The CLI is a package of its own and may
 * import the library only through its public entries ("effect-retry",
 * "effect-retry/http"), and `src/internal/delay.ts` is not one of them, so
 * these lines follow that file exactly. Replace every use with `RetryDecision`
 * and delete this file when it lands; do not extend it.
 */
import type { RetrySchedule } from "effect-retry"

/** How a delay is randomised (the library's `RetrySchedule.Jitter`). */
export type Jitter = RetrySchedule.Jitter

/** `base · factor^(retry - 1)` for the 1-based retry number. */
export const exponentialMillis = (baseMillis: number, factor: number, retry: number): number =>
  baseMillis * Math.pow(factor, retry - 1)

/** `a · b` where 0 · ∞ is 0. */
const times = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : a * b)

/** Whether a jitter kind needs a random draw. */
export const jitterDraws = (jitter: Jitter): boolean => jitter !== "none"

/** Applies jitter to an exponential delay; `previous` is read by decorrelated jitter only. */
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
