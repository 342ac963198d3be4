import * as Duration from "effect/Duration"
import type * as RetryEvent from "../RetryEvent.js"

// The bodies of `RetryEvent`'s formatting.

/** The body of `RetryEvent.formatDelay`. */
export const formatDelay = (delay: Duration.DurationInput): string => {
  const millis = Math.round(Duration.toMillis(delay))
  if (millis < 1000) return `${millis}ms`
  const seconds = (Math.round(millis / 100) / 10).toFixed(1)
  return `${seconds.endsWith(".0") ? seconds.slice(0, -2) : seconds}s`
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** The body of `RetryEvent.formatAttempt`. */
export const formatAttempt = (event: RetryEvent.Retrying): string =>
  `attempt ${event.attempt + 1}${Number.isFinite(event.maxAttempts) ? `/${event.maxAttempts}` : ""}`

/** The body of `RetryEvent.format`. */
export const format = (event: RetryEvent.RetryEvent): string => {
  switch (event._tag) {
    case "Retrying": {
      const attempt = formatAttempt(event)
      return event.delayFrom === "cooldown"
        ? `waiting ${formatDelay(event.delay)} for a cool-down another call received (${attempt})`
        : `retrying in ${formatDelay(event.delay)} (${attempt})`
    }
    case "Succeeded":
      return `succeeded after ${plural(event.attempts, "attempt")}`
    case "GaveUp":
      return `gave up after ${plural(event.attempts, "attempt")} (${event.reason})`
  }
}