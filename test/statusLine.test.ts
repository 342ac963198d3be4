/**
 * The status-line recipe of docs/observability.md, run as a user runs it: the
 * code block is taken from the document, completed with a call that fails
 * twice and then succeeds, and run with tsx in a pseudo-terminal (`script`
 * from util-linux, Debian's bsdutils; .ci/run installs it when missing), so
 * stderr and stdout are a terminal. The line must be rewritten in place,
 * cleared at the end, and no log line of the library may land on it. The same
 * program without `RetryLog.layerOff` is run too, to show the check can fail:
 * there the library's Warning lines are written onto the status line.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const tsx = join(root, "node_modules", ".bin", "tsx")
const hasScript = spawnSync("script", ["--version"]).status === 0
const ci = process.env["CI"] !== undefined && process.env["CI"] !== "" && process.env["CI"] !== "false"

/** The first TypeScript block after the heading. */
const recipe = (() => {
  const doc = readFileSync(join(root, "docs", "observability.md"), "utf8")
  const section = doc.slice(doc.indexOf("### A terminal status line"))
  const match = /```ts\n([\s\S]*?)```/.exec(section)
  if (match === null) throw new Error("no code block under \"A terminal status line\"")
  return match[1]!
})()

const declared = "declare const sync: Effect.Effect<void, Unavailable>"
const program = (code: string) =>
  code
    .replaceAll("from \"effect-retry\"", `from ${JSON.stringify(join(root, "src", "index.ts"))}`)
    .replace(
      declared,
      "let calls = 0\n" +
        "const sync: Effect.Effect<void, Unavailable> = Effect.suspend(() => ++calls < 3 ? Effect.fail(new Unavailable()) : Effect.void)"
    ) +
  "\nEffect.runPromise(main).then(() => console.log(\"done after \" + calls + \" attempts\"))\n"

// Inside the repository, so that the program's imports of effect resolve.
const cache = join(root, "node_modules", ".cache")
mkdirSync(cache, { recursive: true })
const scratch = mkdtempSync(join(cache, "effect-retry-status-line-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const write = (name: string, code: string) => {
  const file = join(scratch, name)
  writeFileSync(file, code)
  return file
}

/** Runs a file with tsx, in a pseudo-terminal or piped; killed after 20 s. */
const run = (file: string, terminal: boolean) =>
  new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const command = terminal ? "script" : tsx
    const args = terminal ? ["-qfec", `'${tsx}' '${file}'`, "/dev/null"] : [file]
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })

const clear = "\r\x1b[2K"

describe("the status-line recipe of docs/observability.md", () => {
  it("the recipe turns the library's log lines off with RetryLog", () => {
    expect(recipe).toContain(declared)
    expect(recipe).toContain("RetryLog.layerOff")
  })

  it.runIf(hasScript || ci)("in a terminal: the line is rewritten, cleared at the end, and no library log line lands on it", async () => {
    const [fixed, old] = await Promise.all([
      run(write("recipe.ts", program(recipe)), true),
      run(write("without-retrylog.ts", program(recipe.replace("Layer.merge(statusLine, RetryLog.layerOff)", "statusLine"))), true)
    ])
    expect(fixed.code, fixed.out).toBe(0)
    // Two retries, each shown on the status line.
    expect(fixed.out.match(/\r\x1b\[2Ksync: retrying in \S+ \(attempt [23]\/3\)/g)).toHaveLength(2)
    // Cleared, and nothing left on the line before the program's next output.
    expect(fixed.out).toContain(`${clear}done after 3 attempts`)
    expect(fixed.out).not.toMatch(/level=WARN|retrying in \S+ \(attempt \d\/\d\)"/)
    // Without RetryLog the library's Warning is written right after the status text, on its line.
    expect(old.code, old.out).toBe(0)
    expect(old.out).toMatch(/sync: retrying in \S+ \(attempt 2\/3\)timestamp=\S+ level=WARN/)
  }, 60_000)

  it("piped (not a terminal): no status line, no escape codes, and the library's log lines stay", async () => {
    const piped = await run(write("piped.ts", program(recipe)), false)
    expect(piped.code, piped.out).toBe(0)
    expect(piped.out).not.toContain("\x1b[")
    expect(piped.out.match(/level=WARN fiber=\S+ message="retrying in \S+ \(attempt [23]\/3\)"/g)).toHaveLength(2)
    expect(piped.out).toContain("done after 3 attempts")
  }, 60_000)
})

describe("the README's quick start", () => {
  it("says each retry once (its own line, not the library's Warning as well)", async () => {
    const readme = readFileSync(join(root, "README.md"), "utf8")
    const section = readme.slice(readme.indexOf("## Quick start"))
    const match = /```ts\n([\s\S]*?)```/.exec(section)
    expect(match).not.toBeNull()
    const code = match![1]!
      .replaceAll("from \"effect-retry\"", `from ${JSON.stringify(join(root, "src", "index.ts"))}`) +
      "\nEffect.runPromise(Effect.exit(program)).then(() => console.log(\"end\"))\n"
    const piped = await run(write("quickstart.ts", code), false)
    expect(piped.code, piped.out).toBe(0)
    for (const attempt of [2, 3]) {
      const lines = piped.out.split("\n").filter((line) => line.includes(`(attempt ${attempt}/3)`))
      expect(lines, piped.out).toHaveLength(1)
      expect(lines[0]).toMatch(/level=INFO .*message="stock: retrying in/)
    }
    expect(piped.out.split("\n").filter((line) => line.includes("gave up after 3 attempts"))).toHaveLength(1)
  }, 60_000)
})
