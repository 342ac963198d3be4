/**
 * The API reference builds: TypeDoc, with the repository's typedoc.json
 * (warnings are errors there), renders the JSDoc into Markdown without a
 * warning, and every public module gets a page of its own. The output goes to
 * a temporary directory, so docs/api/ in the working tree is left alone.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const typedoc = join(root, "node_modules", "typedoc", "bin", "typedoc")

const publicModules = [
  "Retry",
  "Retryable",
  "RetryAfter",
  "RetryBudget",
  "RetryEvent",
  "RetryMetrics",
  "RetryObserver",
  "RetryPolicy",
  "RetrySchedule",
  "HttpRetry"
]

const markdownFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return markdownFiles(path)
    return entry.name.endsWith(".md") ? [path] : []
  })

describe("API reference (npm run docs)", () => {
  const out = mkdtempSync(join(tmpdir(), "effect-retry-apidocs-"))
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  it("TypeDoc succeeds and writes a page for each public module", () => {
    const run = spawnSync(process.execPath, [typedoc, "--out", out], {
      cwd: root,
      encoding: "utf8",
      timeout: 55_000,
      env: { ...process.env, NO_COLOR: "1" }
    })
    expect(run.error).toBeUndefined()
    expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toMatchObject({ status: 0 })
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/\[(warning|error)\]/)

    // A module's page is the one whose title is the module's name.
    const titles = new Map(
      markdownFiles(out).map((path) => {
        const title = readFileSync(path, "utf8").split("\n").find((line) => line.startsWith("# "))
        return [title?.slice(2).trim(), path] as const
      })
    )
    const missing = publicModules.filter((name) => !titles.has(name))
    expect(missing).toEqual([])

    // Each page has the module's own description and at least one example.
    for (const name of publicModules) {
      const page = readFileSync(titles.get(name)!, "utf8")
      expect(page, name).toContain("```ts")
      expect(page, name).toMatch(/## Since/)
    }

    // The committed docs/api/ is what TypeDoc makes of the current JSDoc: run `npm run docs` after changing it.
    const committed = join(root, "docs", "api")
    const relative = (dir: string) => markdownFiles(dir).map((path) => path.slice(dir.length + 1)).sort()
    expect(relative(committed)).toEqual(relative(out))
    const stale = relative(out).filter((file) => readFileSync(join(out, file), "utf8") !== readFileSync(join(committed, file), "utf8"))
    expect(stale, "docs/api is out of date: run npm run docs").toEqual([])
  }, 60_000)
})
