/**
 * The effect-retry command-line tool, run as a child process with tsx, the way
 * `npm run demo` and `npm run cli` run it. The explain bands are also checked
 * in process against delays drawn from the library's own schedule.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Chunk, Duration, Effect, Option, Random, Schedule } from "effect"
import { afterAll, describe, expect, it, vi } from "vitest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Console, Exit } from "effect"
import { run as runApp } from "../src/app.js"
import { describeFailure, recorder } from "../src/demoRun.js"
import { explainPolicy } from "../src/explain.js"
import { envKeys } from "../src/options.js"
import { formatMillis } from "../src/table.js"
import { RetryEvent, RetryPolicy } from "effect-retry"

const root = fileURLToPath(new URL("../..", import.meta.url))
const tsx = join(root, "node_modules", ".bin", "tsx")
const main = join(root, "cli", "src", "main.ts")

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly millis: number
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g
const plain = (text: string) => text.replace(ANSI, "")

/** Runs the CLI with a time limit; the child is killed when the limit passes. */
const cli = (args: ReadonlyArray<string>, options: { env?: Record<string, string>; timeout?: number } = {}) =>
  new Promise<Run>((resolve, reject) => {
    const started = performance.now()
    const child = spawn(tsx, [main, ...args], {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 60_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, millis: performance.now() - started })
    })
  })


/**
 * Runs the command line in this process (cli/src/app.ts, what the bin runs),
 * capturing what it prints: the same parsing, messages and exit statuses as
 * the bin without a process start per case. The environment is this process's.
 */
const defaultConsole = Effect.runSync(Effect.console)
const inProcess = async (args: ReadonlyArray<string>): Promise<Run> => {
  const started = performance.now()
  let stdout = ""
  let stderr = ""
  const text = (parts: ReadonlyArray<unknown>) => parts.map(String).join(" ") + "\n"
  const capture: Console.Console = {
    ...defaultConsole,
    log: (...parts) => Effect.sync(() => void (stdout += text(parts))),
    error: (...parts) => Effect.sync(() => void (stderr += text(parts))),
    unsafe: {
      ...defaultConsole.unsafe,
      log: (...parts) => void (stdout += text(parts)),
      error: (...parts) => void (stderr += text(parts))
    }
  }
  const exit = await Effect.runPromise(
    runApp(args).pipe(Effect.withConsole(capture), Effect.provide(NodeContext.layer), Effect.exit)
  )
  const code = Exit.isSuccess(exit)
    ? 0
    : Exit.isFailure(exit) && exit.cause._tag === "Fail"
    ? exit.cause.error.code
    : 1
  return { code, stdout, stderr, millis: performance.now() - started }
}

/** Milliseconds as the CLI's tables print them below a second ("0ms", "50ms", "62.5ms"). */
const ms = (millis: number) => `${Number(millis.toFixed(1))}ms`

// Each spawned CLI starts tsx; on a loaded machine that alone can take seconds.
vi.setConfig({ testTimeout: 90_000 })

const scratch = mkdtempSync(join(tmpdir(), "effect-retry-cli-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe.concurrent("effect-retry --help and --version", () => {
  it("lists the commands", async () => {
    const run = await cli(["--help"])
    expect(run.code).toBe(0)
    const text = plain(run.stdout)
    for (const command of ["demo", "explain", "simulate"]) expect(text).toContain(`- ${command}`)
  })

  it.each([
    ["demo", ["--scenario", "--verbose", "--max-attempts", "--preset", "--env"]],
    ["explain", ["--max-attempts", "--base-delay", "--max-delay", "--factor", "--jitter", "--max-elapsed", "--retry-after", "--retry-after-max", "--when-above-max", "--retry-after-spread", "--preset", "--env", "--svg", "RETRY_MAX_ATTEMPTS"]],
    ["simulate", ["--out", "--seed", "--latency", "--preset", "--jitter", "--max-attempts", "--env", "about 25 s of CPU time"]]
  ])("%s --help shows its flags", async (command, flags) => {
    const run = await cli([command, "--help"])
    expect(run.code).toBe(0)
    const text = plain(run.stdout)
    expect(text).toContain(`$ effect-retry ${command} [`)
    for (const flag of flags) expect(text).toContain(flag)
  })

  it.each(["--help", "demo --help", "explain --help", "simulate --help"])(
    "%s, piped: no ANSI escapes, no \"A user-defined piece of text\", usage as typed",
    async (args) => {
      const run = await cli(args.split(" "))
      expect(run.code).toBe(0)
      expect(run.stdout).not.toMatch(ANSI)
      expect(run.stdout).not.toContain("A user-defined piece of text")
      expect(run.stdout).toMatch(/^\$ effect-retry\b/m)
      expect(run.stdout).not.toMatch(/^\$ (demo|explain|simulate)\b/m)
    }
  )

  it("--env's help lists every key RetryPolicy.config reads, RETRY_RETRY_AFTER_WHEN_ABOVE_MAX included", async () => {
    const run = await cli(["explain", "--help"])
    const text = run.stdout.replace(/\s+/g, " ")
    for (const key of envKeys) expect(text).toContain(key)
    expect(envKeys).toEqual(expect.arrayContaining([
      "RETRY_MAX_ATTEMPTS",
      "RETRY_RETRY_AFTER",
      "RETRY_RETRY_AFTER_MAX",
      "RETRY_RETRY_AFTER_WHEN_ABOVE_MAX",
      "RETRY_RETRY_AFTER_SPREAD"
    ]))
    expect(envKeys).toHaveLength(10)
  })

  it("--version prints the version of package.json", async () => {
    const { version } = JSON.parse(readFileSync(join(root, "cli", "package.json"), "utf8")) as { version: string }
    const run = await cli(["--version"])
    expect(run.code).toBe(0)
    expect(run.stdout.trim()).toBe(version)
  })

  it("an unknown flag is a usage error: status 2", async () => {
    const run = await cli(["explain", "--no-such-flag"])
    expect(run.code).toBe(2)
    expect(plain(run.stderr)).toContain("--no-such-flag")
  })
})

describe.concurrent("effect-retry explain", () => {
  /** The numeric cells of the table row of a retry: min, median, max, total min, total median, total max. */
  const row = (stdout: string, retry: number, attempts: number) => {
    const line = stdout.split("\n").find((l) => new RegExp(`^\\s*${retry}\\s+${retry + 1}/${attempts}\\s`).test(l))
    expect(line, `no table row for retry ${retry}`).toBeDefined()
    return line!.trim().split(/\s+/).slice(2, 8)
  }

  it("--preset aws-standard: full jitter from 100 ms doubling, capped at 20 s", async () => {
    const run = await inProcess(["explain", "--preset", "aws-standard"])
    expect(run.code).toBe(0)
    const policy = RetryPolicy.presets["aws-standard"]
    expect(policy.jitter).toBe("full")
    const base = Duration.toMillis(policy.baseDelay)
    const cap = Duration.toMillis(policy.maxDelay)
    let totalMedian = 0
    let totalMax = 0
    for (let retry = 1; retry < policy.maxAttempts; retry++) {
      // Full jitter: uniform in 0..d, d = base · factor^(n-1), capped.
      const d = base * Math.pow(policy.factor, retry - 1)
      const [min, median, max] = [0, Math.min(d / 2, cap), Math.min(d, cap)]
      totalMedian += median
      totalMax += max
      expect(row(run.stdout, retry, policy.maxAttempts)).toEqual([
        ms(min),
        ms(median),
        ms(max),
        ms(0),
        ms(totalMedian),
        ms(totalMax)
      ])
    }
    // The first retries of aws-standard, spelled out.
    expect(row(run.stdout, 1, 3)).toEqual(["0ms", "50ms", "100ms", "0ms", "50ms", "100ms"])
    expect(row(run.stdout, 2, 3)).toEqual(["0ms", "100ms", "200ms", "0ms", "150ms", "300ms"])
    expect(run.stdout).toContain("Hints up to 20s are honoured")
    expect(run.stdout).toContain("whenAboveMax: clamp")
    // One chart row per retry.
    expect(run.stdout.split("\n").filter((l) => /^retry \d+\s+[ =|]+\S/.test(l))).toHaveLength(2)
  })

  it("the default policy: a 0.75..1.25 band around 500 ms, 1 s", async () => {
    const run = await inProcess(["explain"])
    expect(run.code).toBe(0)
    expect(row(run.stdout, 1, 3)).toEqual(["375ms", "500ms", "625ms", "375ms", "500ms", "625ms"])
    expect(row(run.stdout, 2, 3)).toEqual(["750ms", "1s", "1.25s", "1.125s", "1.5s", "1.875s"])
    expect(run.stdout).toContain("Total budget (maxElapsed): none")
  })

  it("--max-attempts 0 prints the library's reason, naming the flag, and exits with status 2", async () => {
    const run = await inProcess(["explain", "--max-attempts", "0"])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("Invalid value for --max-attempts: 0, expected an integer >= 1")
    expect(run.stderr).not.toMatch(/\n\s+at /)
    expect(run.stdout).toBe("")
  })

  it.each([
    [["--jitter", "wobbly"], "Invalid value for --jitter: \"wobbly\", expected"],
    [["--base-delay", "1 fortnight"], "Invalid value for --base-delay: \"1 fortnight\", expected"],
    // Past a double's range: a typed error naming the flag, not a RangeError with a stack trace.
    [["--max-elapsed", `${"9".repeat(400)}.5 nanos`], "Invalid value for --max-elapsed: \"9999"],
    [["--preset", "nope"], "Invalid value for --preset: \"nope\", expected"],
    [["--when-above-max", "later"], "Invalid value for --when-above-max: \"later\", expected one of \"fail\", \"clamp\", \"ignore\""],
    [["--retry-after-max", "5x"], "Invalid value for --retry-after-max: \"5x\", expected a non-negative duration"],
    [["--jitter", "-1..2"], "Invalid value for --jitter: \"-1..2\": the minimum -1 is negative"],
    [["--max-attempts", "1e20"], "Invalid value for --max-attempts 1e20: above 9007199254740991 (Number.MAX_SAFE_INTEGER)"]
  ])("%j is rejected with status 2, naming the flag", async (args, message) => {
    const run = await inProcess(["explain", ...args])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stderr).not.toMatch(/retryAfter\.|baseDelay|whenAboveMax|maxAttempts/)
    expect(run.stdout).toBe("")
  })

  it.each([
    [["--max-attempts"], "--max-attempts needs a value: --max-attempts N"],
    [["--svg"], "--svg needs a value: --svg FILE"],
    [["--max-attempts", "--env"], "--max-attempts needs a value: --max-attempts N"],
    [["--max-attempts", "3", "--max-attempts", "4"], "--max-attempts is given more than once"],
    [["--env", "--env"], "--env is given more than once"],
    [["--jitter=full", "--jitter", "none"], "--jitter is given more than once"]
  ])("%j: a missing value or a repeated flag is said as such (status 2)", async (args, message) => {
    const run = await inProcess(["explain", ...args])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stderr).not.toContain("Received unknown argument")
  })

  it.each([
    [["--jitter", "0..0"], "warning: --jitter 0..0 multiplies every delay by 0"],
    [["--base-delay", "10000", "--max-delay", "1000"], "warning: --base-delay 10000 is above --max-delay 1000, so every delay is the cap (1s)"]
  ])("%j: legal but surely unintended, warned about on stderr", async (args, message) => {
    const run = await inProcess(["explain", ...args])
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(message)
    expect(run.stdout).toContain("Delay before each retry")
  })

  it("accepts the durations it prints itself: --base-delay 250ms --max-delay 0.4s", async () => {
    const run = await inProcess(["explain", "--base-delay", "250ms", "--max-delay", "0.4s", "--jitter", "none"])
    expect(run.code).toBe(0)
    expect(row(run.stdout, 1, 3)).toEqual(["250ms", "250ms", "250ms", "250ms", "250ms", "250ms"])
    expect(row(run.stdout, 2, 3)).toEqual(["400ms", "400ms", "400ms", "650ms", "650ms", "650ms"])
  })

  it("--env reports an unknown RETRY_* variable, with the key it probably meant", async () => {
    const run = await cli(["explain", "--env"], { env: { RETRY_MAX_ATTEMPT: "5" } })
    expect(run.code).toBe(0)
    expect(run.stderr).toContain("warning: RETRY_MAX_ATTEMPT is not read by --env (did you mean RETRY_MAX_ATTEMPTS?)")
    // The typo is not read: the default 3 attempts.
    expect(run.stdout).toContain("attempts  3 in all")
  })

  it("--env reads RETRY_MAX_ATTEMPTS", async () => {
    const run = await cli(["explain", "--env"], { env: { RETRY_MAX_ATTEMPTS: "5" } })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("attempts  5 in all (up to 4 retries)")
    expect(row(run.stdout, 4, 5)).toHaveLength(6)
  })

  it("--env with an invalid variable names it and exits with status 2", async () => {
    const run = await cli(["explain", "--env"], { env: { RETRY_MAX_ATTEMPTS: "0" } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("RETRY_MAX_ATTEMPTS")
  })

  it("--env with several invalid variables names each of them", async () => {
    const run = await cli(["explain", "--env"], { env: { RETRY_MAX_ATTEMPTS: "0", RETRY_JITTER: "wild" } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("RETRY_MAX_ATTEMPTS: expected an integer >= 1, got 0")
    expect(run.stderr).toContain("RETRY_JITTER: expected one of")
  })

  it("policy flags override a preset", async () => {
    const run = await inProcess(["explain", "--preset", "aws-standard", "--max-attempts", "4", "--base-delay", "200 millis"])
    expect(run.code).toBe(0)
    expect(row(run.stdout, 3, 4)).toEqual(["0ms", "400ms", "800ms", "0ms", "700ms", "1.4s"])
  })

  it("--svg FILE writes the chart as an SVG document", async () => {
    const file = join(scratch, "chart.svg")
    const run = await inProcess(["explain", "--max-attempts", "4", "--svg", file])
    expect(run.code).toBe(0)
    const svg = readFileSync(file, "utf8")
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    expect(svg.trimEnd()).toMatch(/<\/svg>$/)
    // A band per retry, labelled.
    expect(svg.match(/<rect [^>]*fill="#9ecae1"/g)).toHaveLength(3)
    for (const retry of [1, 2, 3]) expect(svg).toContain(`>retry ${retry}</text>`)
    // Balanced elements: every opening tag is closed or self-closing.
    const opened = (svg.match(/<(svg|text|title)\b/g) ?? []).length
    const closed = (svg.match(/<\/(svg|text|title)>/g) ?? []).length
    expect(opened).toBe(closed)
  })

  it("the default Retry-After maximum, as printed (\"Hints up to 1m\"), is a valid --retry-after-max", async () => {
    const first = await inProcess(["explain"])
    expect(first.code).toBe(0)
    const printed = /Hints up to (\S+) are honoured/.exec(first.stdout.replace(/\s+/g, " "))![1]!
    expect(printed).toBe("1m")
    const again = await inProcess(["explain", "--retry-after-max", printed])
    expect(again.stderr).toBe("")
    expect(again.code).toBe(0)
  })

  it("a cap of 90 seconds, as printed in the backoff line (\"1m 30s\"), is a valid --max-delay", async () => {
    const first = await inProcess(["explain", "--max-delay", "90 seconds"])
    expect(first.code).toBe(0)
    const printed = /every delay capped at (.+)$/m.exec(first.stdout)![1]!
    expect(printed).toBe("1m 30s")
    const again = await inProcess(["explain", "--max-delay", printed])
    expect(again.stderr).toBe("")
    expect(again.code).toBe(0)
  })

  it("absurd delays print as plain minutes that read back: no exponent, no float noise, no negative label", async () => {
    const run = await inProcess(["explain", "--max-attempts", "3", "--base-delay", "1000000 weeks", "--factor", "1e20", "--max-delay", "Infinity"])
    expect(run.code).toBe(0)
    expect(run.stdout).not.toMatch(/e\+\d/)
    expect(run.stdout).not.toMatch(/-\d/)
    expect(run.stdout).not.toMatch(/0000000{3,}1/)
    const retry2 = /^ +2 +3\/3 +(\S+) +(\S+) +(\S+)/m.exec(run.stdout)!
    for (const printed of retry2.slice(1)) {
      expect(printed).toMatch(/^\d+m$/)
      const again = await inProcess(["explain", "--max-delay", printed])
      expect(again.stderr).toBe("")
      expect(again.code).toBe(0)
    }
  })

  it("past 2^53 ms the seconds a double still holds are printed, and minutes are cut (never rounded up) to 15 digits", async () => {
    // 150138452337 minutes and 37.244 s, exactly
    expect(formatMillis(9008307140257244)).toBe("150138452337m 37.244s")
    const largest = 1.7976931348623154e302 // the largest delay a Duration holds (its nanoseconds finite)
    const printed = formatMillis(largest)
    expect(printed).toMatch(/^2996155224770520+m$/)
    expect(Number(printed.slice(0, -1)) * 60000).toBeLessThanOrEqual(largest)
    const again = await inProcess(["explain", "--max-delay", printed])
    expect(again.stderr).toBe("")
    expect(again.code).toBe(0)
  })

  it("the cap as the base-delay warning prints it (Effect's \"1s 500ms\") is a valid --max-delay", async () => {
    const first = await inProcess(["explain", "--base-delay", "2s", "--max-delay", "1500ms"])
    const printed = /so every delay is the cap \((.+)\)\.$/m.exec(first.stderr)![1]!
    expect(printed).toBe("1s 500ms")
    const again = await inProcess(["explain", "--max-delay", printed])
    expect(again.stderr).toBe("")
    expect(again.code).toBe(0)
  })
})

describe("explain's bands contain what the library draws", () => {
  const policies = {
    default: RetryPolicy.default,
    full: RetryPolicy.make({ jitter: "full", maxAttempts: 6, maxDelay: "3 seconds" }),
    equal: RetryPolicy.make({ jitter: "equal", maxAttempts: 6, maxDelay: "3 seconds" }),
    none: RetryPolicy.make({ jitter: "none", maxAttempts: 6, maxDelay: "3 seconds" }),
    decorrelated: RetryPolicy.make({ jitter: "decorrelated", maxAttempts: 7, maxDelay: "5 seconds" }),
    wide: RetryPolicy.make({ jitter: { min: 0.5, max: 1.5 }, maxAttempts: 6, maxDelay: "5 seconds", factor: 3 })
  }

  it.each(Object.entries(policies))("%s", async (_, policy) => {
    const steps = explainPolicy(policy).steps
    const cap = Duration.toMillis(policy.maxDelay)
    const failures = Array.from({ length: policy.maxAttempts - 1 }, () => ({ isRetryable: true }))
    // The schedule's output is the backoff before the cap (which delays the retry, not the output).
    const draws = await Effect.runPromise(
      Effect.forEach(Array.from({ length: 300 }, (_, seed) => seed), (seed) =>
        Schedule.run(RetryPolicy.toSchedule(policy), 0, failures).pipe(
          Effect.map((outputs) => Chunk.toReadonlyArray(outputs).map((d) => Math.min(Duration.toMillis(d), cap))),
          Effect.withRandom(Random.make(seed))
        ))
    )
    for (const delays of draws) {
      expect(delays).toHaveLength(steps.length)
      delays.forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(steps[i]!.delay.min - 1e-9)
        expect(delay).toBeLessThanOrEqual(steps[i]!.delay.max + 1e-9)
      })
    }
    // Each median splits the draws roughly in half.
    steps.forEach((step, i) => {
      if (step.delay.min === step.delay.max) return
      const below = draws.filter((delays) => delays[i]! <= step.delay.median).length / draws.length
      expect(below).toBeGreaterThan(0.38)
    })
  })
})

describe("the demo's table of a call's attempts", () => {
  const retrying = (attempt: number, error: unknown) =>
    RetryEvent.Retrying({ attempt, maxAttempts: 3, delay: Duration.seconds(1), error, name: Option.none() })
  const gaveUp = (attempts: number, error: unknown, reason: RetryEvent.GiveUpReason) =>
    RetryEvent.GaveUp({ attempts, error, reason, name: Option.none() })

  it("keeps each attempt's own result when a call is cut short or gives up at the deadline after its announcement", () => {
    const first = new Error("first")
    // Attempt 2 died: its GaveUp carries attempt 1's error, which is not attempt 2's result.
    const died = recorder()
    Effect.runSync(died.onEvent(retrying(1, first)))
    Effect.runSync(died.onEvent(gaveUp(2, first, "defect")))
    expect(died.attempts.map((attempt) => attempt.result)).toEqual([describeFailure(first), "(defect)"])
    // Announced, then given up at the deadline: attempt 2 was never made, and is no row.
    const late = recorder()
    Effect.runSync(late.onEvent(retrying(1, first)))
    Effect.runSync(late.onEvent(gaveUp(1, first, "deadline")))
    expect(late.attempts.map((attempt) => attempt.result)).toEqual([describeFailure(first)])
    // Gave up after its last attempt: that attempt's own error.
    const last = new Error("last")
    const exhausted = recorder()
    Effect.runSync(exhausted.onEvent(retrying(1, first)))
    Effect.runSync(exhausted.onEvent(gaveUp(2, last, "exhausted")))
    expect(exhausted.attempts.map((attempt) => attempt.result)).toEqual([describeFailure(first), describeFailure(last)])
    // Interrupted while waiting before a first attempt: nothing failed, nothing throws.
    const waiting = recorder()
    Effect.runSync(waiting.onEvent(gaveUp(0, undefined, "interrupted")))
    expect(waiting.attempts.map((attempt) => attempt.result)).toEqual([""])
  })
})

describe("effect-retry demo", () => {
  it("--scenario nope names the flag and the scenarios (status 2)", async () => {
    const run = await inProcess(["demo", "--scenario", "nope"])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("Invalid value for --scenario: \"nope\", expected one of rate-limit, outage, flaky, mid-body.")
  })

  it("--scenario outage gives up on each call and prints the summary", async () => {
    const run = await cli(["demo", "--scenario", "outage"], { timeout: 60_000 })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const out = run.stdout
    // Not a TTY: plain lines, no escape codes.
    expect(out).not.toMatch(ANSI)
    expect(out).toMatch(/^\s+retrying in \S+ \(attempt 2\/3\)$/m)
    expect(out).toMatch(/^\s+gave up after 3 attempts \(exhausted\)$/m)
    expect(out).toContain("Summary")
    for (const call of [1, 2]) {
      expect(out).toMatch(new RegExp(`^call ${call}  GET /call/${call}  gave up after 3 attempts \\(exhausted\\) in \\S+$`, "m"))
    }
    expect(out.match(/^\s+3\s+\S+\s+503 Service Unavailable$/gm)).toHaveLength(2)
  })

  it("--scenario outage shows every attempt, the last one included, and no library log line", async () => {
    const run = await cli(["demo", "--scenario", "outage"], { timeout: 60_000 })
    expect(run.code).toBe(0)
    const lines = run.stdout.split("\n")
    for (const call of [1, 2]) {
      const start = lines.indexOf(`call ${call}: GET /call/${call}`)
      const shown = lines.slice(start).slice(0, 12)
      for (const attempt of [1, 2, 3]) expect(shown).toContain(`  attempt ${attempt}: 503 Service Unavailable`)
    }
    expect(run.stdout).not.toMatch(/level=WARN/)
  })

  it("--verbose: each library log line comes right after the attempt it belongs to", async () => {
    const run = await cli(["demo", "--scenario", "outage", "--verbose"], { timeout: 60_000 })
    expect(run.code).toBe(0)
    const lines = run.stdout.split("\n")
    const logs = lines.map((line, i) => [line, i] as const).filter(([line]) => line.includes("level=WARN"))
    expect(logs).toHaveLength(6)
    for (const [line, i] of logs) {
      // The line above is the attempt that failed: attempt n for "attempt n+1/3", attempt 3 for the give-up.
      const attempt = /attempt (\d)\/3/.exec(line)?.[1]
      const failed = attempt === undefined ? 3 : Number(attempt) - 1
      expect(lines[i - 1], line).toBe(`  attempt ${failed}: 503 Service Unavailable`)
    }
  })

  it("the summary's durations have one precision: whole milliseconds below a second, seconds with one decimal", async () => {
    const run = await cli(["demo", "--scenario", "flaky"], { timeout: 60_000 })
    expect(run.code).toBe(0)
    const summary = run.stdout.slice(run.stdout.indexOf("Summary"))
    const durations = [
      ...[...summary.matchAll(/ in (\S+)$/gm)].map((m) => m[1]!),
      ...[...summary.matchAll(/^\s+\d+\s+(\S+)\s{2}/gm)].map((m) => m[1]!).filter((cell) => cell !== "-"),
      ...[...run.stdout.matchAll(/result: .* after (\S+)$/gm)].map((m) => m[1]!)
    ]
    expect(durations.length).toBeGreaterThanOrEqual(6)
    for (const text of durations) expect(text).toMatch(/^(\d{1,3}ms|\d+(\.\d)?s)$/)
  })

  it("--scenario rate-limit waits out Retry-After: 1 and recovers", async () => {
    const run = await cli(["demo", "--scenario", "rate-limit"], { timeout: 60_000 })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const out = run.stdout
    expect(out).not.toMatch(ANSI)
    expect(out).toMatch(/^\s+retrying in 1(\.1)?s \(attempt 2\/3\)$/m)
    expect(out).toMatch(/^call 1  GET \/call\/1  succeeded after 2 attempts in \S+$/m)
    expect(out).toMatch(/^call 2  GET \/call\/2  succeeded after 1 attempt in \S+$/m)
    expect(out).toContain("429 Too Many Requests (Retry-After: 1)")
    // The wait before attempt 2 honours the hint: at least a second, at most 10 % more.
    const waits = [...out.matchAll(/^\s+2\s+(\d+(?:\.\d+)?)s\s+200 OK$/gm)].map((m) => Number(m[1]))
    expect(waits).toHaveLength(2)
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(1)
      expect(wait).toBeLessThanOrEqual(1.1)
    }
  })

  const hasScript = spawnSync("script", ["--version"]).status === 0

  it.skipIf(!hasScript)("on a terminal the status line is rewritten in place and cleared", async () => {
    // `script` runs the command in a pseudo-terminal, so stdout is a TTY.
    const command = `'${tsx}' '${main}' demo --scenario rate-limit`
    const run = await new Promise<Run>((resolve, reject) => {
      const started = performance.now()
      const child = spawn("script", ["-qfc", command, "/dev/null"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      child.on("error", reject)
      child.on("close", (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr: "", millis: performance.now() - started })
      })
    })
    expect(run.code).toBe(0)
    const out = run.stdout
    // Carriage return + erase line, then the countdown, several times per wait.
    const updates = out.match(/\r\x1b\[2K {2}retrying in \S+ \(attempt 2\/3\)/g) ?? []
    expect(updates.length).toBeGreaterThan(5)
    // It counts down from the hint (1 s plus up to 10 %) in steps of 100 ms.
    expect(updates[0]).toMatch(/retrying in 1(\.1)?s /)
    expect(updates.some((line) => /retrying in [1-9]00ms /.test(line))).toBe(true)
    // Cleared before the next line is printed, and never printed as a plain line.
    expect(out).toMatch(/\r\x1b\[2K(\r\x1b\[2K)?\s*result: 200 OK/)
    expect(out).not.toMatch(/^ {2}retrying in/m)
    expect(out).toContain("Summary")
  })
})

describe("effect-retry simulate", () => {
  it("checks --out before it runs: an unwritable folder is a usage error with nothing simulated", async () => {
    const file = join(scratch, "a-file")
    writeFileSync(file, "")
    const run = await inProcess(["simulate", "--out", join(file, "report")])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`Cannot write to --out ${join(file, "report")}`)
    expect(run.stdout).toBe("")
  })

  it.each([
    [["--seed", "x"], "Invalid value for --seed: \"x\", expected an integer."],
    [["--latency", "gaussian"], "Invalid value for --latency: \"gaussian\", expected one of normal, uniform."],
    [["--jitter", "-1..2"], "Invalid value for --jitter: \"-1..2\": the minimum -1 is negative"],
    // Every simulated call may make that many attempts: 10,000 would run for hours.
    [["--max-attempts", "10000"], "Invalid value for --max-attempts 10000: simulate takes at most 100 attempts"]
  ])("%j is a usage error naming the flag", async (args, message) => {
    const run = await inProcess(["simulate", ...args, "--out", join(scratch, "never")])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stdout).toBe("")
  })

  it("with policy flags and --seed: the tables, a contention row for the policy, and the report in --out", async () => {
    const out = join(scratch, "simulation")
    const run = await inProcess(["simulate", "--preset", "llm", "--max-attempts", "4", "--seed", "7", "--out", out])
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("Contention")
    expect(run.stdout).toContain("latency |N(10 ms, 2 ms)| (the study's); mean of 10 runs, seed 7")
    expect(run.stdout).toMatch(/^policy\s+\d/m)
    expect(run.stdout).toContain("against a backend in full outage, the given policy (4 attempts), one shared budget")
    // No budget: every call makes the policy's 4 attempts.
    expect(run.stdout).toMatch(/^none\s+6,000\s+24,000\s+4\.000x$/m)
    for (const name of ["contention.json", "amplification.json", "fleet.json", "contention.svg"]) {
      expect(readFileSync(join(out, name), "utf8").length).toBeGreaterThan(0)
    }
    const contention = JSON.parse(readFileSync(join(out, "contention.json"), "utf8")) as Array<{ strategy: string }>
    expect(contention.map((row) => row.strategy)).toContain("policy")
  }, 300_000)
})

describe("the Retry-After flags", () => {
  it("--retry-after off turns hints off; --retry-after-spread sets their spread", async () => {
    const off = await inProcess(["explain", "--retry-after", "off"])
    expect(off.code).toBe(0)
    expect(plain(off.stdout)).toContain("hints are ignored")
    const spread = await inProcess(["explain", "--retry-after-spread", "0.5"])
    expect(spread.code).toBe(0)
    expect(plain(spread.stdout).replace(/\s+/g, " ")).toContain("plus up to 50% more (spread 0.5)")
  })

  it("--retry-after off with a rule for hints, or a value other than on and off, is a usage error naming the flags", async () => {
    const both = await inProcess(["explain", "--retry-after", "off", "--retry-after-spread", "0"])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain("--retry-after-spread")
    expect(both.stderr).toContain("--retry-after off")
    const maybe = await inProcess(["explain", "--retry-after", "maybe"])
    expect(maybe.code).toBe(2)
    expect(maybe.stderr).toContain("--retry-after")
    const negative = await inProcess(["explain", "--retry-after-spread", "-1"])
    expect(negative.code).toBe(2)
    expect(negative.stderr).toContain("Invalid value for --retry-after-spread")
  })

  it("--retry-after on turns back on the hints that RETRY_RETRY_AFTER=off turned off", async () => {
    const run = await cli(["explain", "--env", "--retry-after", "on", "--retry-after-max", "5s"], { env: { RETRY_RETRY_AFTER: "off" } })
    expect(run.code).toBe(0)
    expect(plain(run.stdout)).toContain("Hints up to 5s are honoured")
  })
})

describe("--env with RETRY_RETRY_AFTER=off", () => {
  it("RETRY_RETRY_AFTER=off with --retry-after-max is refused like RETRY_RETRY_AFTER_MAX, not hints turned back on", async () => {
    const run = await cli(["explain", "--env", "--retry-after-max", "5s"], { env: { RETRY_RETRY_AFTER: "off" } })
    expect(run.code).toBe(2)
    expect(run.stdout).not.toContain("Hints up to 5s are honoured")
  })

  it("RETRY_RETRY_AFTER=off with RETRY_RETRY_AFTER_MAX names the variable that was set", async () => {
    const run = await cli(["explain", "--env"], { env: { RETRY_RETRY_AFTER: "off", RETRY_RETRY_AFTER_MAX: "5s" } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("RETRY_RETRY_AFTER_MAX")
  })
})
