/**
 * `effect-retry explain`: what a policy will do, with no call made. For each
 * retry, the band of delays its jitter can produce (minimum, median, maximum,
 * after the `maxDelay` cap) and the time waited in all by then, as a table, a
 * text chart and optionally an SVG file; then the time budget and the
 * Retry-After rules.
 *
 * The bands are computed by the library's decision core (`RetryDecision`),
 * whose jitter formulas are those of `RetrySchedule`:
 * d = baseDelay · factor^(n-1) for retry n, then
 * - none: d; full: uniform 0..d; equal: d/2 + uniform 0..d/2;
 * - a range {min, max}: d · uniform min..max;
 * - decorrelated: min(maxDelay, uniform base..max(base, 3 · previous delay)),
 *   whose bounds follow from the recurrence and whose median has no closed
 *   form, so it is estimated by a seeded simulation and marked "≈";
 * and every value capped at maxDelay. The median of a total is exact when each
 * delay is symmetric about its median (uniform and not cut by the cap);
 * otherwise it is estimated the same way.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { RetryDecision } from "effect-retry"
import type { RetryPolicy } from "effect-retry"
import { valueFlag } from "./argv.js"
import { CliFailure, FAILURE } from "./errors.js"
import { allPolicyFlags, givenFlags, type PolicyFlags, resolvePolicy } from "./options.js"
import { formatMillis, renderTable } from "./table.js"

/** A range of values: the least, the median and the greatest. */
export interface Band {
  readonly min: number
  readonly median: number
  readonly max: number
  /** The median comes from a simulation, not a formula. */
  readonly estimated: boolean
}

/** Whether a retry fits in the policy's total budget when attempts take no time. */
export type BudgetFit = "always" | "depends on jitter" | "never"

/** One retry of a policy: the delay before it and the time waited in all once it starts. */
export interface Step {
  /** 1-based retry number; the attempt it starts is `retry + 1`. */
  readonly retry: number
  readonly delay: Band
  readonly total: Band
  readonly budget: BudgetFit | undefined
}

/** What `explain` computes for a policy. */
export interface Explanation {
  readonly policy: RetryPolicy.RetryPolicy
  /** All retries the policy allows: `maxAttempts - 1`. */
  readonly retries: number
  /** The first retries, at most `MAX_ROWS`. */
  readonly steps: ReadonlyArray<Step>
}

/** The most retries listed; a policy may allow thousands. */
export const MAX_ROWS = 50

/** Simulated calls for the medians that have no closed form (odd, so the median is one sample). */
const SAMPLES = 100_001

/** The delay before retry `retry` for a draw, by the library's own decision core; `uncapped` leaves out the cap. */
const delayFor = (plan: RetryDecision.Plan, retry: number, previous: number, draw: number, uncapped = false): number =>
  RetryDecision.backoff(uncapped ? { ...plan, capMillis: Infinity } : plan, retry, previous, draw)

/** A small seeded generator (mulberry32), so that estimates are the same on every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/**
 * One simulated call: the delays before retries 1..count, each decided by the
 * library's `RetryDecision` (jitter, then the cap; decorrelated jitter
 * remembers the capped delay before, starting from the base), with draws from
 * `draw`. Hints and the total budget are left out: explain shows them apart.
 */
const simulate = (plan: RetryDecision.Plan, count: number, draw: () => number): Array<number> => {
  const delays: Array<number> = []
  let previous = plan.baseMillis
  for (let retry = 1; retry <= count; retry++) {
    const input = { attempt: retry, retryable: true, previousMillis: previous, elapsedMillis: 0 }
    const draws = Array.from({ length: RetryDecision.draws(plan, input) }, draw)
    const decision = RetryDecision.decide(plan, input, draws)
    const delay = decision._tag === "Retry" ? decision.backoffMillis : 0
    previous = delay
    delays.push(delay)
  }
  return delays
}

/** The k-th smallest value (0-based), by quickselect; reorders `values`. */
const select = (values: Float64Array, k: number): number => {
  let low = 0
  let high = values.length - 1
  while (low < high) {
    const pivot = values[(low + high) >> 1]!
    let i = low
    let j = high
    while (i <= j) {
      while (values[i]! < pivot) i++
      while (values[j]! > pivot) j--
      if (i <= j) {
        const swap = values[i]!
        values[i] = values[j]!
        values[j] = swap
        i++
        j--
      }
    }
    if (k <= j) high = j
    else if (k >= i) low = i
    else return values[k]!
  }
  return values[k]!
}

/** The medians of each delay and of each running total over many simulated calls. */
const simulatedMedians = (plan: RetryDecision.Plan, count: number) => {
  const draw = seeded(0x5eed)
  const delays = Array.from({ length: count }, () => new Float64Array(SAMPLES))
  const totals = Array.from({ length: count }, () => new Float64Array(SAMPLES))
  for (let sample = 0; sample < SAMPLES; sample++) {
    let total = 0
    simulate(plan, count, draw).forEach((delay, i) => {
      total += delay
      delays[i]![sample] = delay
      totals[i]![sample] = total
    })
  }
  const median = (values: Float64Array) => select(values, (SAMPLES - 1) / 2)
  return { delays: delays.map(median), totals: totals.map(median) }
}

const fitOf = (total: Band, budget: number | undefined): BudgetFit | undefined => {
  if (budget === undefined) return undefined
  if (total.max <= budget) return "always"
  if (total.min > budget) return "never"
  return "depends on jitter"
}

/** Computes the delay bands and running totals of a policy's retries. */
export const explainPolicy = (policy: RetryPolicy.RetryPolicy): Explanation => {
  const retries = policy.maxAttempts - 1
  const count = Math.min(retries, MAX_ROWS)
  // The decision core's plan, without hints or the total budget (shown apart).
  const plan: RetryDecision.Plan = { ...RetryDecision.plan(policy), maxElapsedMillis: undefined, hints: undefined }
  const base = plan.baseMillis
  const cap = plan.capMillis
  const budget = Option.getOrUndefined(Option.map(policy.maxElapsed, Duration.toMillis))

  // Bands before the total: exact bounds always (the lowest and highest draw);
  // medians exact except for decorrelated jitter after its first retry.
  const bands: Array<{ min: number; median: number | undefined; max: number; symmetric: boolean }> = []
  let decorrelatedMax = base
  for (let retry = 1; retry <= count; retry++) {
    if (plan.jitter === "decorrelated") {
      // Uniform in base..3 x the delay before, which is the base before the first retry.
      const previousMax = decorrelatedMax
      decorrelatedMax = delayFor(plan, retry, previousMax, 1)
      bands.push({
        min: delayFor(plan, retry, previousMax, 0),
        median: retry === 1 ? delayFor(plan, retry, base, 0.5) : undefined,
        max: decorrelatedMax,
        symmetric: retry === 1 && (delayFor(plan, retry, base, 1, true) <= cap || base >= cap)
      })
    } else {
      const [low, middle, high] = [0, 0.5, 1].map((draw) => delayFor(plan, retry, base, draw)) as [number, number, number]
      bands.push({
        min: low,
        median: middle,
        max: high,
        // Uniform and either untouched or flattened by the cap: symmetric about its median.
        symmetric: delayFor(plan, retry, base, 1, true) <= cap || delayFor(plan, retry, base, 0, true) >= cap
      })
    }
  }

  const needsSimulation = bands.some((band) => band.median === undefined || !band.symmetric)
  const simulated = needsSimulation ? simulatedMedians(plan, count) : undefined

  const steps: Array<Step> = []
  let totalMin = 0
  let totalMax = 0
  let totalMedian = 0
  let totalExact = true
  bands.forEach((band, i) => {
    const exactMedian = band.median !== undefined
    const median = band.median ?? simulated!.delays[i]!
    totalMin += band.min
    totalMax += band.max
    totalMedian += median
    totalExact = totalExact && exactMedian && band.symmetric
    const total: Band = {
      min: totalMin,
      median: totalExact ? totalMedian : simulated!.totals[i]!,
      max: totalMax,
      estimated: !totalExact
    }
    steps.push({
      retry: i + 1,
      delay: { min: band.min, median, max: band.max, estimated: !exactMedian },
      total,
      budget: fitOf(total, budget)
    })
  })
  return { policy, retries, steps }
}

// ---------------------------------------------------------------------------
// Text

/** An estimate is shown to three significant digits, which is what a simulation of this size can promise. */
const approx = (value: number, estimated: boolean) =>
  estimated ? `≈${formatMillis(Number(value.toPrecision(3)))}` : formatMillis(value)

/** Breaks a paragraph into lines of at most `width` characters. */
export const wrap = (text: string, width = 100): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line.length === 0 ? word : `${line} ${word}`
    }
  }
  if (line.length > 0) lines.push(line)
  return lines
}

const describeJitter = (policy: RetryPolicy.RetryPolicy): string => {
  const jitter = policy.jitter
  switch (jitter) {
    case "none":
      return "none: each delay is exactly d"
    case "full":
      return "full: uniform in 0..d"
    case "equal":
      return "equal: d/2 + uniform in 0..d/2"
    case "decorrelated":
      return "decorrelated: uniform in base..3 x the delay before (d and the factor are not used)"
    default:
      return `d x a uniform multiplier in ${jitter.min}..${jitter.max}`
  }
}

const describeBudget = (policy: RetryPolicy.RetryPolicy, explanation: Explanation): Array<string> =>
  Option.match(policy.maxElapsed, {
    onNone: () => wrap("Total budget (maxElapsed): none. Retries stop only when the attempts run out."),
    onSome: (maxElapsed) => {
      const never = explanation.steps.find((step) => step.budget === "never")
      const maybe = explanation.steps.find((step) => step.budget === "depends on jitter")
      const verdict = never === undefined && maybe === undefined
        ? "Even the longest delays fit, if the attempts themselves are quick."
        : maybe !== undefined
        ? `From retry ${maybe.retry} on, whether a retry fits depends on the jitter drawn.`
        : `Retry ${never!.retry} and later never fit.`
      return wrap(
        `Total budget (maxElapsed): ${formatMillis(Duration.toMillis(maxElapsed))} from the start of the first ` +
          "attempt. A retry whose delay would end past it is not made, and the call gives up with reason " +
          `"deadline". Time spent in the attempts counts too. ${verdict}`
      )
    }
  })

const describeRetryAfter = (policy: RetryPolicy.RetryPolicy): Array<string> => {
  const rules = policy.retryAfter
  if (rules === false) return wrap("Retry-After: hints are ignored; every retry uses the backoff above.")
  const max = formatMillis(Duration.toMillis(rules.max))
  const spread = rules.spread > 0
    ? ` plus up to ${Number((rules.spread * 100).toFixed(1))}% more (spread ${rules.spread}), so that clients told the same moment do not all come back at once`
    : ""
  const above = rules.whenAboveMax === "fail"
    ? "the call gives up at once (whenAboveMax: fail)"
    : rules.whenAboveMax === "clamp"
    ? `the retry waits ${max} (whenAboveMax: clamp)`
    : "the hint is ignored and the backoff above is used (whenAboveMax: ignore)"
  return wrap(
    "Retry-After: a server's hint (Retry-After, retry-after-ms, the RateLimit reset headers) replaces the " +
      `backoff for that retry, and maxDelay does not apply to it. Hints up to ${max} are honoured: the retry ` +
      `waits the hint${spread}. For a longer hint ${above}.` +
      (Option.isSome(policy.maxElapsed) ? " The total budget applies to hinted waits too." : "")
  )
}

/** The table of delays and totals. */
export const table = (explanation: Explanation): Array<string> => {
  const budgeted = Option.isSome(explanation.policy.maxElapsed)
  const header = ["retry", "attempt", "min", "median", "max", "total min", "total median", "total max"]
  const rows = explanation.steps.map((step) => [
    String(step.retry),
    `${step.retry + 1}/${explanation.policy.maxAttempts}`,
    formatMillis(step.delay.min),
    approx(step.delay.median, step.delay.estimated),
    formatMillis(step.delay.max),
    formatMillis(step.total.min),
    approx(step.total.median, step.total.estimated),
    formatMillis(step.total.max),
    ...(budgeted ? [step.budget ?? ""] : [])
  ])
  return renderTable(
    budgeted ? [...header, "within budget"] : header,
    rows,
    ["right", "right", "right", "right", "right", "right", "right", "right", "left"]
  )
}

/** Round tick marks from 0 to at least `top`: 1, 2, 2.5 or 5 times a power of ten, about four of them. */
export const ticks = (top: number): { readonly step: number; readonly end: number } => {
  if (top <= 0) return { step: 1, end: 1 }
  const rough = top / 4
  const power = Math.pow(10, Math.floor(Math.log10(rough)))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power
  return { step, end: Math.ceil(top / step - 1e-9) * step }
}

const CHART_WIDTH = 60

/** One row per retry: '=' spans min..max, '|' marks the median; an axis in round durations under it. */
export const chart = (explanation: Explanation): Array<string> => {
  const top = Math.max(...explanation.steps.map((step) => step.delay.max))
  const { end, step } = ticks(top)
  const column = (millis: number) => Math.round((millis / end) * (CHART_WIDTH - 1))
  const label = (retry: number) => `retry ${retry}`.padEnd(10)
  const lines = explanation.steps.map((s) => {
    const cells = Array.from({ length: CHART_WIDTH }, () => " ")
    for (let c = column(s.delay.min); c <= column(s.delay.max); c++) cells[c] = "="
    cells[column(s.delay.median)] = "|"
    const range = s.delay.min === s.delay.max
      ? formatMillis(s.delay.min)
      : `${formatMillis(s.delay.min)}..${formatMillis(s.delay.max)}`
    return `${label(s.retry)}${cells.join("")}  ${range}`.trimEnd()
  })
  const axis = Array.from({ length: CHART_WIDTH }, () => "-")
  const labels = Array.from({ length: CHART_WIDTH + 12 }, () => " ")
  for (let value = 0; value <= end + 1e-9; value += step) {
    const c = column(value)
    axis[c] = "+"
    const text = formatMillis(value)
    const start = Math.min(c, CHART_WIDTH + 12 - text.length)
    if (labels.slice(Math.max(0, start - 1), start + text.length).every((ch) => ch === " ")) {
      text.split("").forEach((ch, i) => (labels[start + i] = ch))
    }
  }
  return [...lines, `${" ".repeat(10)}${axis.join("")}`, `${" ".repeat(10)}${labels.join("")}`.trimEnd()]
}

/** The whole text report. */
export const report = (explanation: Explanation, source: string): Array<string> => {
  const policy = explanation.policy
  const base = formatMillis(Duration.toMillis(policy.baseDelay))
  const cap = formatMillis(Duration.toMillis(policy.maxDelay))
  const header = [
    `Policy: ${source}`,
    `  attempts  ${policy.maxAttempts} in all (${
      explanation.retries === 0 ? "no retries" : `up to ${explanation.retries} ${explanation.retries === 1 ? "retry" : "retries"}`
    })`,
    `  backoff   d = ${base} x ${policy.factor}^(retry - 1), every delay capped at ${cap}`,
    `  jitter    ${describeJitter(policy)}`,
    ""
  ]
  if (explanation.retries === 0) {
    return [...header, "No retries: the first failure is final.", "", ...describeBudget(policy, explanation), "", ...describeRetryAfter(policy)]
  }
  const estimated = explanation.steps.some((step) => step.delay.estimated || step.total.estimated)
  const omitted = explanation.retries - explanation.steps.length
  return [
    ...header,
    "Delay before each retry, and the time waited in all once it starts (attempts taking no time):",
    "",
    ...table(explanation),
    ...(omitted > 0 ? [`... and ${omitted} more retries, not listed.`] : []),
    ...(estimated
      ? [`≈ estimated from ${SAMPLES.toLocaleString("en-US")} simulated calls, with a fixed seed (the same on every run).`]
      : []),
    "",
    "Delay before each retry ('=' spans min..max, '|' marks the median):",
    "",
    ...chart(explanation),
    "",
    ...describeBudget(policy, explanation),
    "",
    ...describeRetryAfter(policy)
  ]
}

// ---------------------------------------------------------------------------
// SVG

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const fixed = (value: number) => String(Number(value.toFixed(2)))

/** The chart as a standalone SVG document. */
export const svg = (explanation: Explanation, source: string): string => {
  const rowHeight = 28
  const left = 90
  const plotWidth = 520
  const right = 250
  const top = 56
  const steps = explanation.steps
  const height = top + Math.max(1, steps.length) * rowHeight + 50
  const width = left + plotWidth + right
  const greatest = Math.max(0, ...steps.map((step) => step.delay.max))
  const { end, step } = ticks(greatest)
  const x = (millis: number) => left + (millis / end) * plotWidth
  const axisY = top + steps.length * rowHeight + 8
  const parts: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `  <title>${escapeXml(`Retry delays of ${source}`)}</title>`,
    `  <rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `  <text x="${left}" y="22" font-size="14" font-weight="bold">${escapeXml(`Delay before each retry: ${source}`)}</text>`,
    `  <text x="${left}" y="40" fill="#555555">${
      escapeXml("Bars span the minimum to the maximum delay; the dark mark is the median.")
    }</text>`
  ]
  for (let value = 0; value <= end + 1e-9; value += step) {
    const tx = fixed(x(value))
    parts.push(
      `  <line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${axisY}" stroke="#e5e5e5"/>`,
      `  <text x="${tx}" y="${axisY + 18}" text-anchor="middle" fill="#333333">${escapeXml(formatMillis(value))}</text>`
    )
  }
  parts.push(`  <line x1="${left}" y1="${axisY}" x2="${left + plotWidth}" y2="${axisY}" stroke="#333333"/>`)
  steps.forEach((s, i) => {
    const y = top + i * rowHeight
    const x1 = x(s.delay.min)
    const barWidth = Math.max(2, x(s.delay.max) - x1)
    const median = fixed(x(s.delay.median))
    const range = s.delay.min === s.delay.max
      ? formatMillis(s.delay.min)
      : `${formatMillis(s.delay.min)} .. ${formatMillis(s.delay.max)}`
    parts.push(
      `  <text x="${left - 10}" y="${y + 17}" text-anchor="end">retry ${s.retry}</text>`,
      `  <rect x="${fixed(x1)}" y="${y + 6}" width="${fixed(barWidth)}" height="${rowHeight - 12}" rx="3" fill="#9ecae1"/>`,
      `  <line x1="${median}" y1="${y + 3}" x2="${median}" y2="${y + rowHeight - 3}" stroke="#08519c" stroke-width="3"/>`,
      `  <text x="${left + plotWidth + 12}" y="${y + 17}" fill="#333333">${
        escapeXml(`${range} (median ${approx(s.delay.median, s.delay.estimated)})`)
      }</text>`
    )
  })
  parts.push("</svg>", "")
  return parts.join("\n")
}

// ---------------------------------------------------------------------------
// Command

/** Where the policy came from, for the report's title: "preset llm", "default with --max-attempts". */
const sourceOf = (flags: PolicyFlags) => {
  const base = Option.isSome(flags.preset)
    ? `preset ${flags.preset.value}`
    : flags.env
    ? "the environment (RETRY_*)"
    : "default"
  const given = givenFlags(flags)
  return given.length === 0 ? base : `${base} with ${given.join(", ")}`
}

const svgFlag = Options.text(valueFlag("svg", "FILE")).pipe(
  Options.withPseudoName("FILE"),
  Options.withDescription("Also write the chart to FILE as an SVG image."),
  Options.optional
)

/** The `explain` command. */
export const command = Command.make(
  "explain",
  { ...allPolicyFlags, svg: svgFlag },
  (flags) =>
    Effect.gen(function*() {
      const policy = yield* resolvePolicy(flags)
      const source = sourceOf(flags)
      const explanation = explainPolicy(policy)
      yield* Console.log(report(explanation, source).join("\n"))
      if (Option.isSome(flags.svg)) {
        const file = flags.svg.value
        const fs = yield* FileSystem.FileSystem
        yield* fs.writeFileString(file, svg(explanation, source)).pipe(
          Effect.mapError((error) => new CliFailure({ message: `Cannot write ${file}: ${error.message}`, exitCode: FAILURE }))
        )
        yield* Console.log(`\nWrote the chart to ${file}`)
      }
    })
).pipe(
  Command.withDescription(
    "Show what a retry policy will do, with no call made: the min, median and max delay before each retry " +
      "and in all, a chart, the time budget and the Retry-After rules. An invalid policy exits with status 2."
  )
)
