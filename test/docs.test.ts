/**
 * Every public export is documented: a JSDoc comment with `@since` and an
 * `@example` (the examples themselves are type-checked by `npm run typecheck`).
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..", "src")

const publicModules = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "internal" || entry.name === "cli" ? [] : publicModules(path)
    return entry.name.endsWith(".ts") && entry.name !== "index.ts" ? [path] : []
  })

const EXPORT = /^export (?:const|function|class|interface|type|abstract class) ([A-Za-z$_][\w$]*)/

/** The JSDoc comment that ends right before line `index`, if any. */
const docBefore = (lines: ReadonlyArray<string>, index: number): string | undefined => {
  let end = index - 1
  while (end >= 0 && lines[end]!.trim() === "") end--
  if (end < 0 || !lines[end]!.trim().endsWith("*/")) return undefined
  let start = end
  while (start >= 0 && !lines[start]!.trim().startsWith("/**")) start--
  return start < 0 ? undefined : lines.slice(start, end + 1).join("\n")
}

const undocumented = (path: string): Array<string> => {
  const lines = readFileSync(path, "utf8").split("\n")
  return lines.flatMap((line, index) => {
    const match = EXPORT.exec(line)
    if (match === null) return []
    const doc = docBefore(lines, index)
    if (doc === undefined) return [`${match[1]}: no JSDoc`]
    if (doc.includes("@internal")) return []
    const missing = ["@since", "@example"].filter((tag) => !doc.includes(tag))
    return missing.length === 0 ? [] : [`${match[1]}: no ${missing.join(" or ")}`]
  })
}

describe("public API documentation", () => {
  const modules = publicModules(root)
  it("finds the public modules", () => {
    expect(modules.length).toBeGreaterThanOrEqual(9)
  })
  for (const path of modules) {
    it(`${path.slice(root.length + 1)}: every export has JSDoc with @since and @example`, () => {
      expect(undocumented(path)).toEqual([])
    })
  }
})
