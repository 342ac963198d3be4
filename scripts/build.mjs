// Builds the package with tsc alone:
//   dist/esm  ES modules + .d.ts  (tsconfig.build.esm.json), package.json {"type": "module"}
//   dist/cjs  CommonJS + .d.ts    (tsconfig.build.cjs.json), package.json {"type": "commonjs"}
// The marker package.json files make every .js and .d.ts file under each folder
// unambiguous to Node and to TypeScript whatever the root package.json says.
//
// Usage: node scripts/build.mjs [--out <dir>]   (default: dist)
// --out lets the package test build into a temporary directory, so that it never
// deletes or half-writes the dist/ of a working tree that someone else is using.
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const args = process.argv.slice(2)
const outIndex = args.indexOf("--out")
if (outIndex !== -1 && args[outIndex + 1] === undefined) throw new Error("--out needs a directory")
const out = resolve(root, outIndex === -1 ? "dist" : args[outIndex + 1])

const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc")

rmSync(out, { recursive: true, force: true })

const builds = [
  { config: "tsconfig.build.esm.json", dir: "esm", type: "module" },
  { config: "tsconfig.build.cjs.json", dir: "cjs", type: "commonjs" }
]

for (const { config, dir, type } of builds) {
  const outDir = join(out, dir)
  console.log(`tsc -p ${config} -> ${relative(root, outDir) || "."}`)
  execFileSync(process.execPath, [tsc, "-p", join(root, config), "--outDir", outDir], { cwd: root, stdio: "inherit" })
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, "package.json"), JSON.stringify({ type }, null, 2) + "\n")
}
