import { Duration, Option } from "effect"
import { RetryEvent } from "effect-retry"
import { describe, expect, it } from "vitest"
import { countdownText } from "../src/statusLine.js"

describe("the status line's countdown", () => {
  it("says a wait comes from a cool-down another call received, as it counts down", () => {
    const event = RetryEvent.Retrying({
      attempt: 0,
      maxAttempts: 3,
      delay: Duration.seconds(2),
      delayFrom: "cooldown",
      error: undefined,
      name: Option.none()
    })
    expect(countdownText(event, 1500)).toBe("waiting 1.5s for a cool-down another call received (attempt 1/3)")
    expect(countdownText(event, 0)).toBe("attempt 1/3 in progress")
    const backoff = RetryEvent.Retrying({ ...event, attempt: 1, delayFrom: "backoff" })
    expect(countdownText(backoff, 500)).toBe("retrying in 500ms (attempt 2/3)")
  })

  it("under a Schedule, which has no attempt count, shows the attempt alone", () => {
    const event = RetryEvent.Retrying({
      attempt: 1,
      maxAttempts: Infinity,
      delay: Duration.seconds(1),
      error: undefined,
      name: Option.none()
    })
    expect(countdownText(event, 500)).toBe("retrying in 500ms (attempt 2)")
    expect(countdownText(event, 0)).toBe("attempt 2 in progress")
  })
})
