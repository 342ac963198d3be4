// Builds the CLI with tsc into cli/dist (or --out DIR), against the library's
// built types. Usage: node scripts/build.mjs [--out DIR] [--lib DIR]
//   --lib DIR  a built library (the dist/ of scripts/build.mjs at the root);
//              without it the library is built first into the root's dist/.
//              DIR must lie inside the repository (node_modules/.cache/... will
//              do), so that the library's .d.ts files find effect in node_modules.
// With --lib the CLI compiles against that build through a generated tsconfig
// whose "paths" point at it, so the package test can build both packages into
// a temporary directory without touching the working tree's dist/.
import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const cliRoot = fileURLToPath(new URL("..", import.meta.url))
const repoRoot = join(cliRoot, "..")
const args = process.argv.slice(2)
const option = (name) => {
  const index = args.indexOf(name)
  if (index === -1) return undefined
  if (args[index + 1] === undefined) throw new Error(`${name} needs a directory`)
  return resolve(args[index + 1])
}
const out = option("--out") ?? join(cliRoot, "dist")
const lib = option("--lib")
if (lib !== undefined && !lib.startsWith(repoRoot)) throw new Error(`--lib must be inside ${repoRoot}: ${lib}`)

const tsc = createRequire(join(repoRoot, "package.json")).resolve("typescript/bin/tsc")

if (lib === undefined) {
  execFileSync(process.execPath, [join(repoRoot, "scripts", "build.mjs")], { cwd: repoRoot, stdio: "inherit" })
}

rmSync(out, { recursive: true, force: true })
let config = join(cliRoot, "tsconfig.build.json")
let scratch
if (lib !== undefined) {
  scratch = mkdtempSync(join(tmpdir(), "effect-retry-cli-build-"))
  config = join(scratch, "tsconfig.json")
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(cliRoot, "tsconfig.build.json"),
      compilerOptions: {
        rootDir: join(cliRoot, "src"),
        baseUrl: lib,
        typeRoots: [join(repoRoot, "node_modules", "@types")],
        paths: {
          "effect-retry": ["./esm/index.d.ts"],
          "effect-retry/http": ["./esm/http/index.d.ts"]
        }
      },
      include: [join(cliRoot, "src", "**", "*.ts")]
    })
  )
}
try {
  console.log(`tsc -p ${config} -> ${out}`)
  execFileSync(process.execPath, [tsc, "-p", config, "--outDir", out], { cwd: cliRoot, stdio: "inherit" })
} finally {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true })
}
// The bin keeps its #!/usr/bin/env node line through tsc; make it executable
// for people who run it from a checkout (npm sets the mode on install anyway).
chmodSync(join(out, "main.js"), 0o755)
