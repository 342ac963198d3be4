/** The defaults of a retry policy, in one place. */
export const maxAttempts = 3
export const baseDelay = "500 millis"
export const maxDelay = "8 seconds"
export const factor = 2
export const jitter = { min: 0.75, max: 1.25 } as const
export const retryAfter = { max: "60 seconds", whenAboveMax: "fail", spread: 0.1 } as const

export const jitterNames = ["none", "full", "equal", "decorrelated"] as const
export const whenAboveMaxNames = ["fail", "clamp", "ignore"] as const
