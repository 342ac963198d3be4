/**
 * What @effect/cli leaves rough for a person at a terminal, fixed around it:
 *
 * - a flag given without its value (`explain --max-attempts`) or given twice
 *   is reported as such, before @effect/cli reads the arguments (it says
 *   "Received unknown argument" for both);
 * - help and @effect/cli's own messages carry no ANSI escapes when the stream
 *   is not a terminal (or NO_COLOR is set), drop the "A user-defined piece of
 *   text." line @effect/cli prints for every text flag (ours are numbers,
 *   durations and names, described in their own words), and show usage lines
 *   as they are typed: `$ effect-retry demo ...`.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

/** Flags that take a value, with the placeholder shown in help ("N", "DURATION"). */
const valueFlags = new Map<string, string>()
/** Flags that take none. */
const booleanFlags = new Set<string>()

/** Records a flag that takes a value; returns its name. Every such flag of the CLI is declared through this. */
export const valueFlag = (name: string, placeholder: string): string => {
  valueFlags.set(name, placeholder)
  return name
}

/** Records a flag that takes no value; returns its name. */
export const booleanFlag = (name: string): string => {
  booleanFlags.add(name)
  return name
}

/**
 * The first problem with the command-line arguments that @effect/cli would
 * misreport: a value flag at the end or followed by another flag, or a flag
 * given twice. `--name=value` counts as the flag with its value.
 */
export const argumentProblem = (args: ReadonlyArray<string>): string | undefined => {
  const seen = new Set<string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") break
    if (!arg.startsWith("--")) continue
    const equals = arg.indexOf("=")
    const name = (equals === -1 ? arg : arg.slice(0, equals)).slice(2)
    const placeholder = valueFlags.get(name)
    if (placeholder === undefined && !booleanFlags.has(name)) continue
    if (seen.has(name)) return `--${name} is given more than once; give it once.`
    seen.add(name)
    if (placeholder !== undefined && equals === -1) {
      const next = args[i + 1]
      if (next === undefined || next.startsWith("--") || next === "-h") {
        return `--${name} needs a value: --${name} ${placeholder}`
      }
      i++
    }
  }
  return undefined
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g
const TEXT_TYPE = /\n\n[ \t]*A user-defined piece of text\./g
const USAGE = /^(\s*)\$ (?!effect-retry\b)/gm

/** Help and messages of @effect/cli as this CLI shows them. */
export const tidy = (text: string, colors: boolean): string => {
  const plain = colors ? text : text.replace(ANSI, "")
  return plain.replace(TEXT_TYPE, "").replace(USAGE, "$1$ effect-retry ")
}

const colorsOn = (stream: NodeJS.WriteStream): boolean =>
  stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

/**
 * Runs an effect (the @effect/cli app) with a console whose `log` and
 * `error` pass strings through `tidy`; every other method is the current console's.
 */
export const withTidyConsole = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (console) => {
    const map = (colors: boolean) => (args: ReadonlyArray<unknown>) =>
      args.map((arg) => (typeof arg === "string" ? tidy(arg, colors) : arg))
    const out = map(colorsOn(process.stdout))
    const err = map(colorsOn(process.stderr))
    const tidied: Console.Console = {
      ...console,
      log: (...args) => console.log(...out(args)),
      error: (...args) => console.error(...err(args)),
      unsafe: {
        ...console.unsafe,
        log: (...args) => console.unsafe.log(...out(args)),
        error: (...args) => console.unsafe.error(...err(args))
      }
    }
    return Effect.withConsole(self, tidied)
  })
