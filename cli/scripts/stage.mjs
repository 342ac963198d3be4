// Stages the CLI package for `npm pack` / `npm publish`: builds it into
// DIR/dist and writes DIR/package.json, README.md and LICENSE.
// Usage: node scripts/stage.mjs --out DIR [--lib DIR]   (--lib: see build.mjs)
//
// Why a stage: in this repository the CLI depends on the library as
// "effect-retry": "file:.." (npm links a workspace to the root package no
// other way), which must not reach the registry. The staged package.json
// depends on "^<the library's version>" instead. Publish with
//   node cli/scripts/stage.mjs --out /tmp/cli && npm publish /tmp/cli
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const cliRoot = fileURLToPath(new URL("..", import.meta.url))
const repoRoot = join(cliRoot, "..")
const args = process.argv.slice(2)
const outIndex = args.indexOf("--out")
if (outIndex === -1 || args[outIndex + 1] === undefined) throw new Error("usage: stage.mjs --out DIR [--lib DIR]")
const out = resolve(args[outIndex + 1])
const libIndex = args.indexOf("--lib")
const lib = libIndex === -1 ? [] : ["--lib", resolve(args[libIndex + 1])]

mkdirSync(out, { recursive: true })
execFileSync(process.execPath, [join(cliRoot, "scripts", "build.mjs"), "--out", join(out, "dist"), ...lib], {
  cwd: cliRoot,
  stdio: "inherit"
})

const library = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"))
const manifest = JSON.parse(readFileSync(join(cliRoot, "package.json"), "utf8"))
manifest.dependencies = { ...manifest.dependencies, "effect-retry": `^${library.version}` }
// The stage holds the build already: nothing to run when it is packed.
delete manifest.scripts
writeFileSync(join(out, "package.json"), JSON.stringify(manifest, null, 2) + "\n")
for (const file of ["README.md", "LICENSE"]) copyFileSync(join(cliRoot, file), join(out, file))
console.log(`staged ${manifest.name}@${manifest.version} in ${out}`)
