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

/** A whole number in digits, never in exponent form ("1.26e+30"), which a duration read back would refuse. */
const plainDigits = (n: number): string => {
  if (n < 1e21) return String(n)
  const [mantissa, exponent] = n.toExponential().split("e")
  const digits = mantissa!.replace(".", "")
  return digits + "0".repeat(Number(exponent) - (digits.length - 1))
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
  const minutes = Math.floor(millis / 60_000)
  // Past 2^53 ms a double holds no seconds: minutes alone, to the 15 digits it does hold.
  if (millis > Number.MAX_SAFE_INTEGER) return `${plainDigits(Number(minutes.toPrecision(15)))}m`
  const seconds = (millis - minutes * 60_000) / 1000
  return seconds === 0 ? `${minutes}m` : `${minutes}m ${trim(seconds, 3)}s`
}
