// Extracts every TypeScript example so that `tsc` type-checks it: the ```ts
// blocks of README.md and docs/*.md, and the @example blocks of the JSDoc in
// src/. Each becomes a module under .examples/, named after where it came from.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"

const root = new URL("..", import.meta.url).pathname
const out = join(root, ".examples")

const walk = (dir, ending) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return walk(path, ending)
    return path.endsWith(ending) ? [path] : []
  })

const fence = /```(?:ts|typescript)\n([\s\S]*?)```/g

const markdownBlocks = (path) => [...readFileSync(path, "utf8").matchAll(fence)].map((m) => m[1])

const jsdocBlocks = (path) =>
  [...readFileSync(path, "utf8").matchAll(/\/\*\*[\s\S]*?\*\//g)].flatMap((comment) => {
    const text = comment[0].split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n")
    return [...text.matchAll(fence)].map((m) => m[1])
  })

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

const sources = [
  ...[...(existsSync(join(root, "README.md")) ? ["README.md"] : []), ...walk(join(root, "docs"), ".md").map((p) => relative(root, p))].map((p) => [p, markdownBlocks(join(root, p))]),
  ...walk(join(root, "src"), ".ts").map((p) => [relative(root, p), jsdocBlocks(p)])
]

let count = 0
for (const [path, blocks] of sources) {
  blocks.forEach((code, index) => {
    const name = `${path.replace(/[^A-Za-z0-9]+/g, "_")}_${index + 1}.ts`
    // A module of its own, so that examples do not clash over top-level names.
    writeFileSync(join(out, name), `// from ${path}, example ${index + 1}\n${code}\nexport {}\n`)
    count++
  })
}
console.log(`extracted ${count} examples into .examples/`)
