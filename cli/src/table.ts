/**
 * Plain-text tables and duration formatting for the CLI's output.
 */

/** How a column is aligned. */
export type Align = "left" | "right"

/**
 * Renders rows under a header as aligned columns separated by two spaces, with
 * a rule under the header. Lines have no trailing spaces.
 */
export const renderTable = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  align: ReadonlyArray<Align> = []
): Array<string> => {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0
        return align[i] === "right" ? cell.padStart(width) : cell.padEnd(width)
      })
      .join("  ")
      .trimEnd()
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)]
}

const trim = (value: number, digits: number): string => String(Number(value.toFixed(digits)))

/** Significant digits a double holds for any value: minutes past them are cut to them. */
const DOUBLE_DIGITS = 15

const MINUTE = BigInt(60_000)

/**
 * `formatMillis` past 2^53 ms, where every double is a whole number: split
 * exactly as a bigint (a double's own arithmetic would turn the seconds
 * negative), in plain digits (`1.26e+30m` reads back as no duration). Past
 * 15 digits of minutes, the minutes are cut to 15 and followed by zeros,
 * never rounded up, so that the figure read back is not longer than the delay.
 */
const formatHugeMillis = (millis: number): string => {
  const whole = BigInt(millis)
  const minutes = (whole / MINUTE).toString()
  if (minutes.length > DOUBLE_DIGITS) {
    return `${minutes.slice(0, DOUBLE_DIGITS)}${"0".repeat(minutes.length - DOUBLE_DIGITS)}m`
  }
  const seconds = Number(whole % MINUTE) / 1000
  return seconds === 0 ? `${minutes}m` : `${minutes}m ${trim(seconds, 3)}s`
}

/**
 * A duration in milliseconds for a table: "0ms", "62.5ms", "375ms", "1.25s",
 * "1m 30s". Up to one decimal below a second and three above, so that the
 * numbers of a policy read exactly.
 */
export const formatMillis = (millis: number): string => {
  if (!Number.isFinite(millis)) return "∞"
  if (Number(millis.toFixed(1)) < 1000) return `${trim(millis, 1)}ms`
  if (millis < 60_000) return `${trim(millis / 1000, 3)}s`
  if (millis > Number.MAX_SAFE_INTEGER) return formatHugeMillis(millis)
  const minutes = Math.floor(millis / 60_000)
  const seconds = (millis - minutes * 60_000) / 1000
  return seconds === 0 ? `${minutes}m` : `${minutes}m ${trim(seconds, 3)}s`
}
