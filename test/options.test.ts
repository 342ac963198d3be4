/**
 * Policy options are decoded by one Schema: each defect listed in issue 9 has
 * a test here (hostile durations, null, inherited properties, the durations
 * the library prints, equal durations given differently, combinators that
 * check their argument when called).
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Config, ConfigProvider, Duration, Effect, Equal, Exit, Hash, Option, Schema } from "effect"
import { Retry, RetryEvent, RetryPolicy, RetrySchedule } from "../src/index.js"

/** What `f` threw. */
const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  return undefined
}

/** The typed failure of `decode`, asserting it is a failure and not a defect. */
const decodeError = (input: unknown) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(RetryPolicy.decode(input))
    if (Exit.isSuccess(exit)) throw new Error(`decoded ${JSON.stringify(input)}`)
    expect(Cause.isDie(exit.cause)).toBe(false)
    return Option.getOrThrow(Cause.failureOption(exit.cause))
  })

describe("hostile durations are typed errors that name the field", () => {
  const hostile: ReadonlyArray<readonly [string, unknown]> = [
    ["baseDelay", [1e300, 0]],
    ["maxElapsed", "9".repeat(400) + ".5 nanos"],
    ["maxDelay", "9".repeat(400) + " seconds"],
    ["baseDelay", [0, 1e308 * 10]],
    ["maxDelay", [-1, 0]],
    ["baseDelay", "1e3 millis"],
    // A bigint past a double's range is an overflow, not an infinite duration.
    ["maxDelay", BigInt(10) ** BigInt(400)],
    // The first delay cannot be infinite: the call would sleep forever.
    ["baseDelay", Infinity],
    ["baseDelay", Duration.infinity]
  ]
  for (const [field, value] of hostile) {
    it.effect(`decode({ ${field}: ${String(value).slice(0, 20)} })`, () =>
      Effect.gen(function*() {
        const error = yield* decodeError({ [field]: value })
        expect(error).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
        expect(error.field).toBe(field)
        expect(error.message).toContain(`${field} is `)
      }))
    it(`make({ ${field}: ${String(value).slice(0, 20)} }) throws InvalidRetryPolicy, not RangeError`, () => {
      const error = thrown(() => RetryPolicy.make({ [field]: value } as RetryPolicy.Options))
      expect(error).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
      expect((error as RetryPolicy.InvalidRetryPolicy).field).toBe(field)
    })
  }

  it("the combinators reject them too", () => {
    expect(thrown(() => RetrySchedule.backoff({ baseDelay: [1e300, 0] }))).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
    expect(thrown(() => RetrySchedule.deadline("9".repeat(400) + ".5 nanos" as Duration.DurationInput))).toBeInstanceOf(
      RetryPolicy.InvalidRetryPolicy
    )
  })

  it("an infinite Duration and Infinity milliseconds stay allowed where written as such", () => {
    expect(Duration.toMillis(RetryPolicy.make({ maxDelay: Duration.infinity }).maxDelay)).toBe(Infinity)
    expect(Duration.toMillis(RetryPolicy.make({ maxDelay: Infinity }).maxDelay)).toBe(Infinity)
  })

  it("\"Infinity\" and \"∞\" as text (what Duration.format and the CLI print) mean no limit, as from an environment variable or JSON", () => {
    for (const text of ["Infinity", "infinity", " ∞ "]) {
      const policy = Effect.runSync(RetryPolicy.decode({ maxDelay: text, maxElapsed: text, retryAfter: { max: text } }))
      expect(Duration.toMillis(policy.maxDelay)).toBe(Infinity)
      expect(Option.map(policy.maxElapsed, Duration.toMillis)).toEqual(Option.some(Infinity))
      expect(policy.retryAfter === false ? 0 : Duration.toMillis(policy.retryAfter.max)).toBe(Infinity)
    }
    // Not where no limit means waiting forever, and not a number too large to hold, written out.
    expect(Effect.runSync(Effect.flip(RetryPolicy.decode({ baseDelay: "Infinity" })))).toMatchObject({ field: "baseDelay" })
    expect(Effect.runSync(Effect.flip(RetryPolicy.decode({ maxDelay: "9".repeat(400) })))).toMatchObject({ field: "maxDelay" })
  })
})

describe("null is rejected everywhere, with the field named", () => {
  const fields: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ["maxAttempts", { maxAttempts: null }],
    ["baseDelay", { baseDelay: null }],
    ["maxDelay", { maxDelay: null }],
    ["factor", { factor: null }],
    ["jitter", { jitter: null }],
    ["maxElapsed", { maxElapsed: null }],
    ["retryAfter", { retryAfter: null }],
    ["retryAfter.max", { retryAfter: { max: null } }],
    ["retryAfter.whenAboveMax", { retryAfter: { whenAboveMax: null } }],
    ["retryAfter.spread", { retryAfter: { spread: null } }],
    ["jitter.min", { jitter: { min: null, max: 1 } }],
    ["name", { name: null }]
  ]
  for (const [field, options] of fields) {
    it.effect(field, () =>
      Effect.gen(function*() {
        const error = yield* decodeError(options)
        expect(error.field).toBe(field)
        expect(error.value).toBe("null")
        expect(thrown(() => RetryPolicy.make(options as RetryPolicy.Options))).toBeInstanceOf(
          RetryPolicy.InvalidRetryPolicy
        )
      }))
  }

  it("retryAfter: false ignores hints; an explicit undefined is the default", () => {
    expect(RetryPolicy.make({ retryAfter: false }).retryAfter).toBe(false)
    expect(Equal.equals(RetryPolicy.make({ maxAttempts: undefined, retryAfter: undefined }), RetryPolicy.default)).toBe(
      true
    )
  })
})

describe("inherited properties are not read", () => {
  it("Object.create({ maxAttempts: 99 }) is the default policy", () => {
    const options = Object.create({ maxAttempts: 99, baseDelay: -1 }) as RetryPolicy.Options
    const policy = RetryPolicy.make(options)
    expect(policy.maxAttempts).toBe(3)
    expect(Equal.equals(policy, RetryPolicy.default)).toBe(true)
  })

  it("nor in nested options", () => {
    const retryAfter = Object.create({ spread: 5 }) as RetrySchedule.RetryAfterOptions
    const rules = RetryPolicy.make({ retryAfter }).retryAfter
    expect(rules === false ? undefined : rules.spread).toBe(0.1)
  })
})

describe("the durations the library prints are accepted back", () => {
  for (const [text, millis] of [["500ms", 500], ["1.2s", 1200], ["8s", 8000], ["0ms", 0], [" 250 ms ", 250]] as const) {
    it.effect(`"${text}" is ${millis} ms in decode, make and config`, () =>
      Effect.gen(function*() {
        expect(Duration.toMillis((yield* RetryPolicy.decode({ baseDelay: text })).baseDelay)).toBe(millis)
        expect(Duration.toMillis(RetryPolicy.make({ maxDelay: text as Duration.DurationInput }).maxDelay)).toBe(millis)
        const fromEnv = yield* Effect.withConfigProvider(
          RetryPolicy.config,
          ConfigProvider.fromMap(new Map([["MAX_ELAPSED", text]]))
        )
        expect(Option.map(fromEnv.maxElapsed, Duration.toMillis)).toEqual(Option.some(millis))
      }))
  }

  it.effect("every delay RetryEvent.formatDelay prints decodes to the delay it rounds", () =>
    Effect.gen(function*() {
      for (const millis of [0, 1, 999, 1000, 1249, 1250, 8000, 60_000, 123_456]) {
        const printed = RetryEvent.formatDelay(millis)
        const decoded = Duration.toMillis((yield* RetryPolicy.decode({ baseDelay: printed })).baseDelay)
        expect(Math.abs(decoded - millis)).toBeLessThanOrEqual(50)
      }
    }))

  it.effect("the compound forms of the CLI and Duration.format: \"1m\", \"1m 30s\", \"1s 500ms\", \"2d 3h\"", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, number]> = [
        ["1m", 60_000],
        ["1m 30s", 90_000],
        ["1m 30.25s", 90_250],
        ["1s 500ms", 1500],
        ["1m30s", 90_000],
        ["1h 2m 3s", 3_723_000],
        ["2d 3h", 183_600_000],
        ["1ms 500000ns", 1.5],
        ["250us", 0.25]
      ]
      for (const [text, millis] of cases) {
        const decoded = Duration.toMillis((yield* RetryPolicy.decode({ maxDelay: text })).maxDelay)
        expect({ text, millis: decoded }).toEqual({ text, millis })
      }
      for (const millis of [60_000, 90_000, 1500, 3_723_000, 183_600_000]) {
        const printed = Duration.format(Duration.millis(millis))
        const decoded = Duration.toMillis((yield* RetryPolicy.decode({ maxDelay: printed })).maxDelay)
        expect({ printed, millis: decoded }).toEqual({ printed, millis })
      }
    }))

  it.effect("a short form with a unit twice, out of order or unknown is rejected", () =>
    Effect.gen(function*() {
      for (const text of ["30s 1m", "1s 1s", "1m30", "1sm", "ms", "1 min", "1e3s", "-1m"]) {
        const error = yield* Effect.flip(RetryPolicy.decode({ maxDelay: text }))
        expect({ text, field: error.field }).toEqual({ text, field: "maxDelay" })
      }
    }))

  it.effect("RETRY_BASE_DELAY=250ms through Config.nested", () =>
    Effect.gen(function*() {
      const policy = yield* Effect.withConfigProvider(
        Config.nested(RetryPolicy.config, "RETRY"),
        ConfigProvider.fromMap(new Map([["RETRY_BASE_DELAY", "250ms"]]), { pathDelim: "_" })
      )
      expect(Duration.toMillis(policy.baseDelay)).toBe(250)
    }))
})

describe("equal policies are equal", () => {
  it("durations given differently make Equal policies with equal hashes", () => {
    const inputs: ReadonlyArray<Duration.DurationInput> = [
      500,
      "500 millis",
      "500000 micros",
      [0, 5e8],
      BigInt(500_000_000),
      Duration.nanos(BigInt(500_000_000)),
      Duration.seconds(0.5)
    ]
    const policies = inputs.map((baseDelay) => RetryPolicy.make({ baseDelay }))
    for (const policy of policies) {
      expect(Equal.equals(policy, policies[0])).toBe(true)
      expect(Hash.hash(policy)).toBe(Hash.hash(policies[0]!))
    }
  })

  it("decimal text is equal to the whole milliseconds it means", () => {
    // "16.1s" is how the library prints 16,100 ms; 1.001 * 1000 is 1000.9999999999999 in a double.
    // "16.1s" is not a DurationInput by type: it comes as text, from Config or the command line.
    const printed = "16.1s" as Duration.DurationInput
    const pairs: ReadonlyArray<readonly [Duration.DurationInput, Duration.DurationInput]> = [
      [printed, 16_100],
      ["1.001 seconds", "1001 millis"],
      ["0.3 seconds", 300]
    ]
    for (const [text, millis] of pairs) {
      const a = RetryPolicy.make({ maxDelay: text })
      const b = RetryPolicy.make({ maxDelay: millis })
      expect({ text, equal: Equal.equals(a, b), hash: Hash.hash(a) === Hash.hash(b) }).toEqual({ text, equal: true, hash: true })
    }
    const policy = RetryPolicy.make({ maxDelay: printed })
    expect(Equal.equals(RetryPolicy.update(policy, {}), policy)).toBe(true)
    // Below a millisecond, nanoseconds are kept.
    expect(Duration.toNanos(RetryPolicy.make({ baseDelay: "1500 micros" }).baseDelay)).toEqual(Option.some(BigInt(1_500_000)))
  })
})

describe("the pipeable combinators check their argument when called", () => {
  const cases: ReadonlyArray<readonly [string, () => unknown, string]> = [
    ["limited(0)", () => RetrySchedule.limited(0), "maxAttempts"],
    ["capped(-1)", () => RetrySchedule.capped(-1), "maxDelay"],
    ["deadline(\"soon\")", () => RetrySchedule.deadline("soon" as Duration.DurationInput), "maxElapsed"],
    ["honorRetryAfter({ spread: -1 })", () => RetrySchedule.honorRetryAfter({ spread: -1 }), "retryAfter.spread"]
  ]
  for (const [title, call, field] of cases) {
    it(title, () => {
      const error = thrown(call)
      expect(error).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
      expect((error as RetryPolicy.InvalidRetryPolicy).field).toBe(field)
    })
  }
})

describe("RetryPolicy.FromOptions", () => {
  it.effect("decodes options to a policy and encodes a policy back to its fields", () =>
    Effect.gen(function*() {
      const policy = yield* Schema.decodeUnknown(RetryPolicy.FromOptions)({ maxAttempts: 4, baseDelay: "250ms" })
      expect(Equal.equals(policy, RetryPolicy.make({ maxAttempts: 4, baseDelay: 250 }))).toBe(true)
      const failed = yield* Effect.either(Schema.decodeUnknown(RetryPolicy.FromOptions)({ maxAttempt: 4 }))
      expect(failed._tag).toBe("Left")
    }))
})

describe("Retry.retry and Retry.retryOrElse check their policy or schedule when called", () => {
  const notEngines: ReadonlyArray<unknown> = [undefined, null, {}, { maxAttempts: 3 }, "3 times"]
  for (const engine of notEngines) {
    it(`${JSON.stringify(engine) ?? "undefined"} is a typed error naming the policy`, () => {
      for (
        const call of [
          () => Retry.retry(Effect.void, engine as RetryPolicy.RetryPolicy),
          () => Effect.void.pipe(Retry.retry(engine as RetryPolicy.RetryPolicy)),
          () => Retry.retryOrElse(Effect.void, engine as RetryPolicy.RetryPolicy, () => Effect.void)
        ]
      ) {
        const error = thrown(call)
        expect(error).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
        expect((error as RetryPolicy.InvalidRetryPolicy).field).toBe("policy")
      }
    })
  }
})

describe("options that are not a plain object of readable values", () => {
  const cases: ReadonlyArray<readonly [string, () => unknown]> = [
    ["a Date", () => new Date()],
    ["a Map", () => new Map([["maxAttempts", 5]])],
    ["a getter that throws", () => ({
      get maxAttempts(): number {
        throw new Error("getter")
      }
    })],
    ["a Proxy that throws", () =>
      new Proxy({}, {
        ownKeys: () => {
          throw new Error("proxy")
        }
      })]
  ]
  for (const [title, input] of cases) {
    it.effect(`${title} is a typed error, not a default policy or a defect`, () =>
      Effect.gen(function*() {
        const error = yield* decodeError(input())
        expect(error).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
        expect(thrown(() => RetryPolicy.make(input() as RetryPolicy.Options))).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
        // update reads the options the same way before it merges them.
        expect(thrown(() => RetryPolicy.update(RetryPolicy.default, input() as RetryPolicy.Options))).toBeInstanceOf(
          RetryPolicy.InvalidRetryPolicy
        )
        // The public Schema decodes as make does.
        const viaSchema = yield* Effect.exit(Schema.decodeUnknown(RetryPolicy.FromOptions)(input()))
        expect(Exit.isFailure(viaSchema) && !Cause.isDie(viaSchema.cause)).toBe(true)
      }))
  }
})

describe("Retry.retry options", () => {
  it("an unknown option is a typed error naming it, not silently ignored", () => {
    const error = thrown(() => Retry.retry(Effect.void, RetryPolicy.default, { whle: () => true } as Retry.Options<never>))
    expect(error).toBeInstanceOf(RetryPolicy.InvalidRetryPolicy)
    expect((error as RetryPolicy.InvalidRetryPolicy).field).toBe("whle")
  })
})
