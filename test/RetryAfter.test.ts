import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as fc from "fast-check"
import * as RetryAfter from "../src/RetryAfter.js"

/** 2026-01-15T12:00:00Z */
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

const toMillis = (self: Option.Option<Duration.Duration>): Option.Option<number> =>
  Option.map(self, Duration.toMillis)

const expectMillis = (self: Option.Option<Duration.Duration>, millis: number): void => {
  expect(toMillis(self)).toStrictEqual(Option.some(millis))
}

const expectNone = (self: Option.Option<unknown>): void => {
  expect(self).toStrictEqual(Option.none())
}

const INVALID = [
  "abc",
  "0x10",
  "1e3",
  "",
  "-1",
  "+1",
  "1.",
  ".5",
  "Infinity",
  "NaN",
  " ",
  "1 2",
  "1,5",
  "1.5.0",
  "\u0661", // ARABIC-INDIC DIGIT ONE
  "1s",
  "12abc"
]

describe("RetryAfter", () => {
  describe("parse: delay-seconds", () => {
    it.each([
      ["1", 1000],
      ["1.5", 1500],
      [" 2 ", 2000],
      ["\t3\t", 3000],
      ["0", 0],
      ["0.0", 0],
      ["007", 7000],
      ["0.001", 1],
      ["0.25", 250],
      ["1.005", 1005],
      ["120", 120_000],
      ["86400", 86_400_000]
    ])("%j -> %d ms", (input, millis) => {
      expectMillis(RetryAfter.parse(input, NOW), millis)
    })

    it("0 is Duration.zero", () => {
      const result = RetryAfter.parse("0", NOW)
      expect(Option.map(result, Duration.isZero)).toStrictEqual(Option.some(true))
    })

    it("keeps sub-millisecond precision", () => {
      expect(Option.map(RetryAfter.parse("0.0005", NOW), Duration.toNanos)).toStrictEqual(
        Option.some(Option.some(BigInt(500_000)))
      )
    })

    it.each(INVALID)("rejects %j", (input) => {
      expectNone(RetryAfter.parse(input, NOW))
      expectNone(RetryAfter.parseDelaySeconds(input))
    })

    it("parses any non-negative integer n as n seconds", () => {
      fc.assert(
        fc.property(fc.nat(), (n) => {
          expectMillis(RetryAfter.parse(String(n), NOW), n * 1000)
        })
      )
      fc.assert(
        fc.property(fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 1000) }), (n) => {
          expectMillis(RetryAfter.parse(String(n), NOW), n * 1000)
        })
      )
    })

    it("parses n.mmm as n seconds plus mmm milliseconds", () => {
      fc.assert(
        fc.property(fc.nat(), fc.integer({ min: 0, max: 999 }), (n, ms) => {
          const input = `${n}.${String(ms).padStart(3, "0")}`
          expectMillis(RetryAfter.parse(input, NOW), n * 1000 + ms)
        })
      )
    })
  })

  describe("parse: HTTP-date", () => {
    it("IMF-fixdate in the future", () => {
      expectMillis(RetryAfter.parse("Thu, 15 Jan 2026 12:00:30 GMT", NOW), 30_000)
      expectMillis(RetryAfter.parse("Fri, 16 Jan 2026 12:00:00 GMT", NOW), 86_400_000)
    })

    it("RFC 850 date in the future", () => {
      expectMillis(RetryAfter.parse("Thursday, 15-Jan-26 12:01:00 GMT", NOW), 60_000)
    })

    it("asctime date in the future, with space-padded or two-digit day", () => {
      const now = Date.UTC(2026, 1, 6, 8, 49, 0)
      expectMillis(RetryAfter.parse("Fri Feb  6 08:49:37 2026", now), 37_000)
      expectMillis(RetryAfter.parse("Fri Feb 06 08:49:37 2026", now), 37_000)
      expectMillis(RetryAfter.parse("Tue Feb 17 08:49:37 2026", now), 11 * 86_400_000 + 37_000)
    })

    it("past dates and the present give zero", () => {
      const past = [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Thu, 15 Jan 2026 12:00:00 GMT",
        "Thu, 15 Jan 2026 11:59:59 GMT"
      ]
      for (const input of past) {
        const result = RetryAfter.parse(input, NOW)
        expect(Option.map(result, Duration.isZero), input).toStrictEqual(Option.some(true))
      }
    })

    it("accepts surrounding whitespace", () => {
      expectMillis(RetryAfter.parse(" \tThu, 15 Jan 2026 12:00:30 GMT \t", NOW), 30_000)
    })

    it("parseHttpDate returns epoch milliseconds for all three forms", () => {
      const expected = Option.some(Date.UTC(1994, 10, 6, 8, 49, 37))
      expect(RetryAfter.parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).toStrictEqual(expected)
      expect(RetryAfter.parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).toStrictEqual(expected)
      expect(RetryAfter.parseHttpDate("Sun Nov  6 08:49:37 1994", NOW)).toStrictEqual(expected)
    })

    it("handles years before 100 without Date.UTC's 19xx mapping", () => {
      expect(RetryAfter.parseHttpDate("Sat, 01 Jan 0000 00:00:00 GMT", NOW)).toStrictEqual(
        Option.some(-62_167_219_200_000)
      )
      expect(RetryAfter.parseHttpDate("Sat, 01 Jan 0005 00:00:00 GMT", NOW)).toStrictEqual(
        Option.some(-62_009_366_400_000)
      )
      // 29 Feb exists in year 0 (divisible by 400) but not in year 100
      expect(Option.isSome(RetryAfter.parseHttpDate("Tue, 29 Feb 0000 00:00:00 GMT", NOW))).toBe(true)
      expectNone(RetryAfter.parseHttpDate("Mon, 29 Feb 0100 00:00:00 GMT", NOW))
    })

    it("does not require the day name to match the date", () => {
      expect(RetryAfter.parseHttpDate("Mon, 06 Nov 1994 08:49:37 GMT", NOW)).toStrictEqual(
        Option.some(Date.UTC(1994, 10, 6, 8, 49, 37))
      )
    })

    describe("RFC 850 two-digit years", () => {
      const year = (twoDigits: string, now: number): Option.Option<number> =>
        Option.map(
          RetryAfter.parseHttpDate(`Sunday, 06-Nov-${twoDigits} 08:49:37 GMT`, now),
          (millis) => new Date(millis).getUTCFullYear()
        )

      it.each([
        ["94", 1994],
        ["30", 2030],
        ["26", 2026],
        ["00", 2000],
        ["75", 2075], // less than 50 years ahead stays in this century
        ["76", 1976], // 6 Nov 2076 is more than 50 years after 15 Jan 2026: the full date counts, not the year
        ["77", 1977], // more than 50 years ahead goes back a century
        ["99", 1999]
      ])("in 2026, %s -> %d", (twoDigits, expected) => {
        expect(year(twoDigits, NOW)).toStrictEqual(Option.some(expected))
      })

      it("compares the full date with now + 50 years", () => {
        const date = (twoDigits: string, month: string) =>
          Option.map(
            RetryAfter.parseHttpDate(`Sunday, 01-${month}-${twoDigits} 00:00:00 GMT`, NOW),
            (millis) => new Date(millis).getUTCFullYear()
          )
        expect(date("76", "Jan")).toStrictEqual(Option.some(2076)) // 1 Jan 2076: not yet 50 years ahead of 15 Jan 2026
        expect(date("76", "Feb")).toStrictEqual(Option.some(1976)) // 1 Feb 2076: more than 50 years ahead
      })

      it("follows the century of now", () => {
        const in2151 = Date.UTC(2151, 5, 1)
        expect(year("94", in2151)).toStrictEqual(Option.some(2194))
        expect(year("30", in2151)).toStrictEqual(Option.some(2130))
        expect(year("02", in2151)).toStrictEqual(Option.some(2102))
      })
    })

    it.each([
      "Sun, 31 Feb 1994 08:49:37 GMT", // no 31 Feb
      "Sun, 29 Feb 2026 08:49:37 GMT", // not a leap year
      "Sun, 31 Apr 1994 08:49:37 GMT",
      "Sun, 00 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Nov 1994 08:60:00 GMT",
      "Sun, 06 Nov 1994 08:49:60 GMT", // a second 60 only at 23:59:60
      "Sun, 06 Nov 1994 23:58:60 GMT",
      "Sun, 06 Nov 1994 23:59:61 GMT",
      "sun, 06 Nov 1994 08:49:37 GMT", // names are case-sensitive
      "Sun, 06 nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 08:49:37 gmt",
      "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun, 06 Nov 1994 08:49:37",
      "Sun, 06 Nov 1994 08:49:37 +0000",
      "Sun, 6 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 94 08:49:37 GMT",
      "Sun,  06 Nov 1994 08:49:37 GMT",
      "Sun 06 Nov 1994 08:49:37 GMT",
      "Foo, 06 Nov 1994 08:49:37 GMT",
      "Sunday, 06 Nov 1994 08:49:37 GMT",
      "06 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 8:49:37 GMT",
      "Sun, 06 Nvm 1994 08:49:37 GMT",
      "Sun, 06-Nov-94 08:49:37 GMT", // RFC 850 needs the full day name
      "Sunday, 06-Nov-1994 08:49:37 GMT",
      "Sunday, 31-Feb-94 08:49:37 GMT",
      "Sunday, 06-Nov-94 25:49:37 GMT",
      "Sun Nov 6 08:49:37 1994", // asctime pads the day with a space
      "Sun Nov  6 08:49:37 1994 GMT",
      "Sun Nov 31 08:49:37 1994",
      "Sunday Nov  6 08:49:37 1994",
      "1994-11-06T08:49:37Z"
    ])("rejects %j", (input) => {
      expectNone(RetryAfter.parse(input, NOW))
      expectNone(RetryAfter.parseHttpDate(input, NOW))
    })

    it("accepts a leap second, 23:59:60 (RFC 9110's second is 00-60), as the next day's first instant", () => {
      const midnight = Date.UTC(2026, 6, 1) // 2026-07-01T00:00:00Z
      expect(RetryAfter.parseHttpDate("Tue, 30 Jun 2026 23:59:60 GMT", NOW)).toStrictEqual(Option.some(midnight))
      expect(RetryAfter.parseHttpDate("Tuesday, 30-Jun-26 23:59:60 GMT", NOW)).toStrictEqual(Option.some(midnight))
      expect(RetryAfter.parseHttpDate("Tue Jun 30 23:59:60 2026", NOW)).toStrictEqual(Option.some(midnight))
      expectMillis(RetryAfter.parse("Tue, 30 Jun 2026 23:59:60 GMT", midnight - 5000), 5000)
    })

    it("accepts 29 Feb in a leap year", () => {
      expectMillis(
        RetryAfter.parse("Thu, 29 Feb 2028 12:00:00 GMT", NOW),
        Date.UTC(2028, 1, 29, 12) - NOW
      )
    })

    it("round-trips Date.prototype.toUTCString", () => {
      fc.assert(
        fc.property(
          fc.date({
            min: new Date("0000-01-01T00:00:00Z"),
            max: new Date("9999-12-31T23:59:59.999Z"),
            // Without it fast-check also draws new Date(NaN), which has no UTC string to round-trip.
            noInvalidDate: true
          }),
          (date) => {
            const seconds = Math.floor(date.getTime() / 1000) * 1000
            expect(RetryAfter.parseHttpDate(date.toUTCString(), NOW)).toStrictEqual(Option.some(seconds))
            expectMillis(RetryAfter.parse(date.toUTCString(), NOW), Math.max(0, seconds - NOW))
          }
        )
      )
    })

    it("round-trips future dates to (date - now)", () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 100 * 365 * 86_400 }), (offsetSeconds) => {
          const date = new Date(NOW + offsetSeconds * 1000)
          expectMillis(RetryAfter.parse(date.toUTCString(), NOW), date.getTime() - NOW)
        })
      )
    })
  })

  describe("parseMillis", () => {
    it("parses milliseconds with an optional fraction", () => {
      expectMillis(RetryAfter.parseMillis("1500"), 1500)
      expectMillis(RetryAfter.parseMillis(" 0 "), 0)
      expectMillis(RetryAfter.parseMillis("1.5"), 1.5)
    })

    it.each(INVALID)("rejects %j", (input) => {
      expectNone(RetryAfter.parseMillis(input))
    })
  })

  describe("parseGoDuration", () => {
    it.each([
      ["6m0s", 360_000],
      ["20ms", 20],
      ["1h2m3.5s", 3_723_500],
      ["1.5s", 1500],
      ["0s", 0],
      ["2h", 7_200_000],
      ["1.5h", 5_400_000],
      ["0.5m", 30_000],
      ["250us", 0.25],
      ["250\u00b5s", 0.25],
      ["250\u03bcs", 0.25],
      ["1500000ns", 1.5],
      ["1m1m", 120_000],
      ["1s500ms", 1500],
      [" 3s ", 3000]
    ])("%j -> %d ms", (input, millis) => {
      expectMillis(RetryAfter.parseGoDuration(input), millis)
    })

    it.each(["", " ", "5", "0", "-1s", "+1s", "1.s", ".5s", "1d", "1 s", "1s 2m", "s", "1S", "1e3s", "1sm", "ms"])(
      "rejects %j",
      (input) => {
        expectNone(RetryAfter.parseGoDuration(input))
      }
    )

    it("sums hours, minutes and seconds", () => {
      fc.assert(
        fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), (h, m, s) => {
          expectMillis(RetryAfter.parseGoDuration(`${h}h${m}m${s}s`), ((h * 60 + m) * 60 + s) * 1000)
        })
      )
    })
  })

  describe("parseRfc3339", () => {
    it.each([
      ["2024-05-01T12:00:30Z", Date.UTC(2024, 4, 1, 12, 0, 30)],
      ["2024-05-01t12:00:30z", Date.UTC(2024, 4, 1, 12, 0, 30)],
      ["2024-05-01T14:00:30+02:00", Date.UTC(2024, 4, 1, 12, 0, 30)],
      ["2024-05-01T06:30:30-05:30", Date.UTC(2024, 4, 1, 12, 0, 30)],
      ["2024-05-01T12:00:30-00:00", Date.UTC(2024, 4, 1, 12, 0, 30)],
      ["2024-05-01T12:00:30.5Z", Date.UTC(2024, 4, 1, 12, 0, 30, 500)],
      ["2024-05-01T12:00:30.250Z", Date.UTC(2024, 4, 1, 12, 0, 30, 250)],
      ["2024-05-01T12:00:30.123456789Z", Date.UTC(2024, 4, 1, 12, 0, 30, 123)],
      ["2024-05-02T01:00:00+13:00", Date.UTC(2024, 4, 1, 12, 0, 0)],
      ["2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29)]
    ])("%s", (input, expected) => {
      expect(RetryAfter.parseRfc3339(input)).toStrictEqual(Option.some(expected))
    })

    it.each([
      "2024-02-30T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-00-01T00:00:00Z",
      "2024-05-00T00:00:00Z",
      "2024-05-01T24:00:00Z",
      "2024-05-01T12:60:00Z",
      "2024-05-01T12:00:60Z",
      "2024-05-01T12:00:00+24:00",
      "2024-05-01T12:00:00+02:60",
      "2024-05-01T12:00:00",
      "2024-05-01T12:00:00+0200",
      "2024-05-01T12:00:00.Z",
      "2024-05-01 12:00:00Z",
      "2024-5-1T12:00:00Z",
      "24-05-01T12:00:00Z",
      "Wed, 01 May 2024 12:00:30 GMT",
      "1714564830",
      ""
    ])("rejects %j", (input) => {
      expectNone(RetryAfter.parseRfc3339(input))
    })
  })

  describe("parseRateLimit", () => {
    it.each([
      [`"default";r=50;t=30`, 30_000],
      [`"default";t=30;r=50`, 30_000],
      [`default;r=0;t=5`, 5000],
      [`"default"; r=50; t=30`, 30_000],
      [`"default";r=50;t=0`, 0],
      [`"a";r=5;t=10, "b";r=0;t=60, "c";r=0;t=20`, 60_000], // longest exhausted policy
      [`"a";r=5;t=10, "b";r=7;t=60`, 60_000], // none exhausted: the latest
      [`"a";r=5, "b";r=7;t=60`, 60_000], // the only valid t
      [`"a";r=0;t=1.5, "b";r=5;t=8`, 8000], // decimal t is not valid
      [`("x" "y");t=99, "b";t=7`, 7000], // inner lists are not policies
      [`"q";r=0;t=3;pk=:AAE=:;flag;name=tok;s="x y";w=?1`, 3000]
    ])("%s -> %d ms", (input, millis) => {
      expectMillis(RetryAfter.parseRateLimit(input), millis)
    })

    it.each([
      ``,
      `"default";r=50`,
      `"default";r=50;t=-1`,
      `"default";r=50;t=1.5`,
      `"default";r=50;t="30"`,
      `"default";r=50;t=30,`,
      `"default";r=50;t=30 x`,
      `"default";R=50;T=30`,
      `"default;r=50;t=30`,
      `30`,
      `"default";t=1234567890123456`
    ])("rejects %j", (input) => {
      expectNone(RetryAfter.parseRateLimit(input))
    })
  })

  describe("fromHeaders", () => {
    /** 2024-05-01T12:00:00Z */
    const now = Date.UTC(2024, 4, 1, 12, 0, 0)
    const nowSeconds = now / 1000

    it("returns none without any known header", () => {
      expectNone(RetryAfter.fromHeaders({}, now))
      expectNone(RetryAfter.fromHeaders({ "content-type": "text/plain", "x-ratelimit-remaining": "0" }, now))
      expectNone(RetryAfter.fromHeaders(new Headers(), now))
    })

    it.each<[string, string, number]>([
      ["retry-after-ms", "1500", 1500],
      ["retry-after-ms", "2.5", 2.5],
      ["retry-after", "7", 7000],
      ["retry-after", "Wed, 01 May 2024 12:00:30 GMT", 30_000],
      ["retry-after", "Wed, 01 May 2024 11:00:00 GMT", 0],
      ["ratelimit", `"default";r=0;t=30`, 30_000],
      ["ratelimit-reset", "30", 30_000],
      ["ratelimit-reset", "1.5", 1500],
      ["ratelimit-reset", String(nowSeconds + 60), 60_000],
      ["ratelimit-reset", `${nowSeconds + 1}.25`, 1250],
      ["ratelimit-reset", String(nowSeconds - 60), 0],
      ["ratelimit-reset", "999999999", 999_999_999_000],
      ["ratelimit-reset", "1000000000", 0],
      ["x-ratelimit-reset", "12", 12_000],
      ["x-ratelimit-reset", String(nowSeconds + 5), 5000],
      ["x-ratelimit-reset-requests", "6m0s", 360_000],
      ["x-ratelimit-reset-tokens", "20ms", 20],
      ["anthropic-ratelimit-requests-reset", "2024-05-01T12:00:30Z", 30_000],
      ["anthropic-ratelimit-tokens-reset", "2024-05-01T14:00:30.250+02:00", 30_250],
      ["anthropic-ratelimit-input-tokens-reset", "2024-05-01T12:01:00Z", 60_000],
      ["anthropic-ratelimit-output-tokens-reset", "2024-05-01T12:00:01Z", 1000],
      ["anthropic-ratelimit-requests-reset", "2024-05-01T11:00:00Z", 0]
    ])("%s: %s -> %d ms", (name, value, millis) => {
      expectMillis(RetryAfter.fromHeaders({ [name]: value }, now), millis)
      expectMillis(RetryAfter.fromHeaders(new Headers({ [name]: value }), now), millis)
    })

    it.each<[string, string]>([
      ["retry-after-ms", "-1"],
      ["retry-after", "soon"],
      ["ratelimit", `"default";r=0`],
      ["ratelimit-reset", "1e3"],
      ["x-ratelimit-reset", "-5"],
      ["x-ratelimit-reset-requests", "5"],
      ["x-ratelimit-reset-tokens", "1d"],
      ["anthropic-ratelimit-requests-reset", "2024-02-30T00:00:00Z"],
      ["anthropic-ratelimit-reset", "2024-05-01T12:00:30Z"], // no middle segment
      ["anthropic-ratelimit-requests-remaining", "2024-05-01T12:00:30Z"],
      ["x-retry-after", "5"]
    ])("ignores %s: %j", (name, value) => {
      expectNone(RetryAfter.fromHeaders({ [name]: value }, now))
    })

    const retryHeaders = { "retry-after-ms": "100", "retry-after": "2" }
    const resets = {
      "ratelimit": `"default";r=5;t=3`,
      "ratelimit-reset": "4",
      "x-ratelimit-reset": "5",
      "x-ratelimit-reset-requests": "6s",
      "x-ratelimit-reset-tokens": "7s",
      "anthropic-ratelimit-requests-reset": "2024-05-01T12:00:08Z"
    }

    it("retry-after-ms, then retry-after, win over every reset header", () => {
      for (const build of [(h: Record<string, string>) => h, (h: Record<string, string>) => new Headers(h)]) {
        expectMillis(RetryAfter.fromHeaders(build({ ...retryHeaders, ...resets }), now), 100)
        expectMillis(RetryAfter.fromHeaders(build({ "retry-after": "2", ...resets }), now), 2000)
        expectMillis(RetryAfter.fromHeaders(build({ "retry-after-ms": "bad", "retry-after": "2", ...resets }), now), 2000)
      }
    })

    it("without remaining headers, waits for the latest reset among those present", () => {
      expectMillis(RetryAfter.fromHeaders(resets, now), 8000)
      expectMillis(RetryAfter.fromHeaders(new Headers(resets), now), 8000)
      const { "anthropic-ratelimit-requests-reset": _, ...withoutAnthropic } = resets
      expectMillis(RetryAfter.fromHeaders(withoutAnthropic, now), 7000)
      expectMillis(RetryAfter.fromHeaders({ ...withoutAnthropic, "x-ratelimit-reset-tokens": "invalid" }, now), 6000)
    })

    it("matches header names case-insensitively", () => {
      expectMillis(RetryAfter.fromHeaders({ "Retry-After": "3" }, now), 3000)
      expectMillis(RetryAfter.fromHeaders({ "RETRY-AFTER-MS": "3", "Retry-After": "9" }, now), 3)
      expectMillis(RetryAfter.fromHeaders({ RateLimit: `"default";r=0;t=4` }, now), 4000)
      expectMillis(RetryAfter.fromHeaders({ "X-RateLimit-Reset-Requests": "1m" }, now), 60_000)
      expectMillis(
        RetryAfter.fromHeaders({ "Anthropic-RateLimit-Tokens-Reset": "2024-05-01T12:00:10Z" }, now),
        10_000
      )
      expectMillis(RetryAfter.fromHeaders(new Headers({ "Retry-After": "3" }), now), 3000)
    })

    it("uses the first element of array values", () => {
      expectMillis(RetryAfter.fromHeaders({ "retry-after": ["3", "10"] }, now), 3000)
      expectMillis(RetryAfter.fromHeaders({ "retry-after": [], "ratelimit-reset": "4" }, now), 4000)
      expectMillis(RetryAfter.fromHeaders({ "retry-after": ["soon", "10"], "ratelimit-reset": "4" }, now), 4000)
    })

    it("ignores undefined values", () => {
      expectMillis(RetryAfter.fromHeaders({ "retry-after-ms": undefined, "retry-after": "3" }, now), 3000)
      expectNone(RetryAfter.fromHeaders({ "retry-after": undefined }, now))
    })

    it("uses the first of several keys differing only in case", () => {
      expectMillis(RetryAfter.fromHeaders({ "Retry-After": "3", "retry-after": "9" }, now), 3000)
    })

    it("waits for the latest anthropic reset when none says remaining", () => {
      const headers = {
        "anthropic-ratelimit-tokens-reset": "2024-05-01T12:00:04Z",
        "anthropic-ratelimit-requests-reset": "2024-05-01T12:00:03Z",
        "anthropic-ratelimit-input-tokens-reset": "2024-05-01T12:00:01Z",
        "anthropic-ratelimit-output-tokens-reset": "2024-05-01T12:00:02Z"
      }
      expectMillis(RetryAfter.fromHeaders(headers, now), 4000)
      expectMillis(RetryAfter.fromHeaders(new Headers(headers), now), 4000)
      expectMillis(
        RetryAfter.fromHeaders({ ...headers, "anthropic-ratelimit-tokens-reset": "bad" }, now),
        3000
      )
      expectMillis(
        RetryAfter.fromHeaders({ "anthropic-ratelimit-custom-reset": "2024-05-01T12:00:09Z" }, now),
        9000
      )
    })

    it("accepts web Headers", () => {
      const headers = new Headers()
      headers.append("Retry-After", "5")
      headers.append("X-RateLimit-Reset-Tokens", "1s")
      expectMillis(RetryAfter.fromHeaders(headers, now), 5000)
    })

    it("accepts any object with a get method", () => {
      const values: Record<string, string> = {
        "anthropic-ratelimit-tokens-reset": "2024-05-01T12:00:06Z"
      }
      const getter: RetryAfter.HeadersGetter = { get: (name) => values[name.toLowerCase()] ?? null }
      expectMillis(RetryAfter.fromHeaders(getter, now), 6000)
      values["retry-after"] = "2"
      expectMillis(RetryAfter.fromHeaders(getter, now), 2000)
    })
  })
})

describe("RetryAfter.fromHeaders: the budget that ran out", () => {
  /** 2024-05-01T12:00:00Z */
  const now = Date.UTC(2024, 4, 1, 12, 0, 0)

  it("OpenAI: waits for the exhausted tokens budget, not the requests budget that resets first", () => {
    const headers = {
      "x-ratelimit-limit-requests": "500",
      "x-ratelimit-remaining-requests": "499",
      "x-ratelimit-reset-requests": "12ms",
      "x-ratelimit-limit-tokens": "30000",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "1.2s"
    }
    expectMillis(RetryAfter.fromHeaders(headers, now), 1200)
    expectMillis(RetryAfter.fromHeaders(new Headers(headers), now), 1200)
    expectMillis(RetryAfter.fromHeaders({ ...headers, "x-ratelimit-reset-tokens": "6m0s" }, now), 360_000)
  })

  it("OpenAI: the requests budget when that is the exhausted one", () => {
    expectMillis(
      RetryAfter.fromHeaders({
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "2s",
        "x-ratelimit-remaining-tokens": "100",
        "x-ratelimit-reset-tokens": "30s"
      }, now),
      2000
    )
  })

  it("Anthropic: waits for the exhausted budget; the latest when several are", () => {
    const headers = {
      "anthropic-ratelimit-requests-remaining": "0",
      "anthropic-ratelimit-requests-reset": "2024-05-01T12:00:05Z",
      "anthropic-ratelimit-input-tokens-remaining": "0",
      "anthropic-ratelimit-input-tokens-reset": "2024-05-01T12:00:20Z",
      "anthropic-ratelimit-output-tokens-remaining": "8000",
      "anthropic-ratelimit-output-tokens-reset": "2024-05-01T12:01:00Z",
      "anthropic-ratelimit-tokens-remaining": "8000",
      "anthropic-ratelimit-tokens-reset": "2024-05-01T12:00:01Z"
    }
    expectMillis(RetryAfter.fromHeaders(headers, now), 20_000)
    expectMillis(RetryAfter.fromHeaders(new Headers(headers), now), 20_000)
    expectMillis(
      RetryAfter.fromHeaders({ ...headers, "anthropic-ratelimit-input-tokens-remaining": "12" }, now),
      5000
    )
  })

  it("Retry-After still wins over an exhausted budget", () => {
    expectMillis(
      RetryAfter.fromHeaders({
        "retry-after": "3",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": "2024-05-01T12:00:30Z"
      }, now),
      3000
    )
  })

  it("a remaining header without a valid reset is no hint", () => {
    expectNone(RetryAfter.fromHeaders({ "x-ratelimit-remaining-tokens": "0" }, now))
    expectMillis(
      RetryAfter.fromHeaders({
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "bad",
        "x-ratelimit-reset-requests": "4s"
      }, now),
      4000
    )
  })

  it("stays linear and never throws on huge inputs", () => {
    const members = Array.from({ length: 200_000 }, (_, i) => `"p${i}";r=0;t=${i % 1000}`).join(", ")
    expectMillis(RetryAfter.parseRateLimit(members), 999_000)
    expectMillis(RetryAfter.fromHeaders({ ratelimit: members }, now), 999_000)
    const many: Record<string, string> = {}
    for (let i = 0; i < 200_000; i++) {
      many[`anthropic-ratelimit-b${i}-reset`] = "2024-05-01T12:00:01Z"
      many[`anthropic-ratelimit-b${i}-remaining`] = "5"
    }
    many["anthropic-ratelimit-b7-reset"] = "2024-05-01T12:00:09Z"
    expectMillis(RetryAfter.fromHeaders(many, now), 9000)
  })
})

describe("RetryAfter.fromRetryAfterHeaders", () => {
  const now = Date.UTC(2024, 4, 1, 12, 0, 0)
  it("reads retry-after-ms and retry-after, never the rate-limit reset headers", () => {
    expect(RetryAfter.fromRetryAfterHeaders({ "Retry-After-Ms": "250" }, now)).toEqual(Option.some(Duration.millis(250)))
    expect(RetryAfter.fromRetryAfterHeaders({ "retry-after": "2" }, now)).toEqual(Option.some(Duration.seconds(2)))
    const resets = {
      ratelimit: "\"default\";r=0;t=30",
      "ratelimit-reset": "30",
      "x-ratelimit-reset": "30",
      "x-ratelimit-reset-requests": "6s",
      "anthropic-ratelimit-requests-reset": "2024-05-01T12:00:30Z"
    }
    expect(RetryAfter.fromRetryAfterHeaders(resets, now)).toEqual(Option.none())
    expect(Option.isSome(RetryAfter.fromHeaders(resets, now))).toBe(true)
  })

  it("a header sent twice, which undici and fetch join with \", \", counts its first value, as node:http keeps it", () => {
    const date = new Date(now + 30_000).toUTCString()
    const later = new Date(now + 90_000).toUTCString()
    const cases: ReadonlyArray<readonly [Record<string, string>, Duration.Duration]> = [
      [{ "retry-after": "5, 10" }, Duration.seconds(5)],
      [{ "retry-after": `${date}, ${later}` }, Duration.seconds(30)],
      [{ "retry-after": `${date}, 10` }, Duration.seconds(30)],
      [{ "retry-after-ms": "300, 900" }, Duration.millis(300)]
    ]
    for (const [headers, expected] of cases) {
      expect({ headers, delay: RetryAfter.fromRetryAfterHeaders(headers, now) }).toEqual({ headers, delay: Option.some(expected) })
      expect({ headers, delay: RetryAfter.fromHeaders(headers, now) }).toEqual({ headers, delay: Option.some(expected) })
    }
    // A first value that is no delay makes the header count for nothing, as when it comes alone.
    expect(RetryAfter.fromRetryAfterHeaders({ "retry-after": "soon, 10" }, now)).toEqual(Option.none())
  })
})
