/**
 * The published package, checked the way a user meets it: build it, pack it,
 * install the tarball into a fresh project next to its peer dependencies, then
 * load both entry points with `import` and with `require`, type-check a
 * consumer under moduleResolution node16 and bundler, lint the tarball with
 * publint and @arethetypeswrong/cli, and run the `effect-retry` bin.
 *
 * The build goes to a temporary directory (`npm run build -- --out <dir>`) and
 * is packed from a staged copy of package.json, README.md and LICENSE, so the
 * test never deletes or half-writes the dist/ of the working tree. Everything
 * lives under one directory in os.tmpdir(), removed at the end (set
 * KEEP_PACKAGE_TEST_DIR=1 to keep it for a look).
 */
import { execFile } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = (name: string) => join(root, "node_modules", ".bin", name)
const tscJs = join(root, "node_modules", "typescript", "bin", "tsc")

// The bin is built from src/cli/main.ts; until that file exists there is no
// bin to run (and publint rightly reports the missing file).
const cliSource = existsSync(join(root, "src", "cli", "main.ts"))
const binMissing = "pkg.bin[\"effect-retry\"] is ./dist/esm/cli/main.js but the file does not exist."

// The peer dependencies installed next to the tarball, at the versions this
// repository is tested with (its node_modules follow package-lock.json).
const peers = ["effect", "@effect/platform", "@effect/platform-node", "@effect/cli", "@effect/printer", "@effect/printer-ansi"]
const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version
const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  readonly version: string
  readonly overrides?: Record<string, string>
}

// The child npm must not act on the npm that runs this test: drop the npm_*
// variables an `npm test` exports (npm_config_local_prefix, npm_package_*, ...)
// and keep only settings about where and how to fetch.
const keptNpmConfig = new Set(["cache", "userconfig", "globalconfig", "registry", "cafile", "proxy", "https_proxy", "noproxy", "strict_ssl"])
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => {
    const lower = key.toLowerCase()
    if (lower.startsWith("npm_config_")) return keptNpmConfig.has(lower.slice("npm_config_".length))
    return !lower.startsWith("npm_")
  })
)
env["NO_COLOR"] = "1"
delete env["FORCE_COLOR"]

// npm itself: the npm that runs `npm test` when there is one, else npm on PATH.
const npmCli = process.env["npm_execpath"]?.endsWith(".js") ? process.env["npm_execpath"] : undefined
const npmCommand = (args: ReadonlyArray<string>): [string, ReadonlyArray<string>] =>
  npmCli === undefined ? ["npm", args] : [process.execPath, [npmCli, ...args]]

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const exec = (file: string, args: ReadonlyArray<string>, cwd: string): Promise<Result> =>
  new Promise((resolve) => {
    execFile(file, [...args], { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resolve({ code, stdout, stderr: error !== null && stderr === "" ? error.message : stderr })
    })
  })

const describeRun = (file: string, args: ReadonlyArray<string>, cwd: string, result: Result) =>
  `$ ${[file, ...args].join(" ")}   (in ${cwd})\nexit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`

/** Runs a command and fails with its whole output unless it exits with 0. */
const run = async (file: string, args: ReadonlyArray<string>, cwd: string): Promise<Result> => {
  const result = await exec(file, args, cwd)
  if (result.code !== 0) throw new Error(describeRun(file, args, cwd, result))
  return result
}

const npm = (args: ReadonlyArray<string>, cwd: string) => run(...npmCommand(args), cwd)

/** The last line a script printed: its JSON report (logs may come before it). */
const report = (stdout: string): unknown => JSON.parse(stdout.trim().split("\n").at(-1) ?? "")

// The consumer's files --------------------------------------------------------

const esmScript = `
import { Effect } from "effect"
import { Retry, Retryable, RetryPolicy } from "effect-retry"
import { HttpRetry } from "effect-retry/http"

class Busy extends Retryable.TaggedError("Busy") {}
let calls = 0
const policy = RetryPolicy.make({ maxAttempts: 3, baseDelay: "1 millis" })
const result = await Effect.runPromise(
  Effect.suspend(() => (++calls < 2 ? Effect.fail(new Busy()) : Effect.succeed("ok"))).pipe(Retry.retry(policy))
)
console.log(JSON.stringify({
  entries: [import.meta.resolve("effect-retry"), import.meta.resolve("effect-retry/http")],
  result,
  calls,
  isPolicy: RetryPolicy.isRetryPolicy(policy),
  withRetry: typeof HttpRetry.withRetry
}))
`

const cjsScript = `
const { Effect } = require("effect")
const { Retry, Retryable, RetryPolicy } = require("effect-retry")
const { HttpRetry } = require("effect-retry/http")

class Busy extends Retryable.TaggedError("Busy") {}
let calls = 0
const policy = RetryPolicy.make({ maxAttempts: 3, baseDelay: "1 millis" })
Effect.runPromise(
  Effect.suspend(() => (++calls < 2 ? Effect.fail(new Busy()) : Effect.succeed("ok"))).pipe(Retry.retry(policy))
).then((result) => {
  console.log(JSON.stringify({
    entries: [require.resolve("effect-retry"), require.resolve("effect-retry/http")],
    result,
    calls,
    isPolicy: RetryPolicy.isRetryPolicy(policy),
    withRetry: typeof HttpRetry.withRetry
  }))
})
`

// Uses typed APIs of both entries; the @ts-expect-error lines fail the check if
// the types resolve to \`any\` (an unused @ts-expect-error is an error).
const consumerTs = `
import { HttpClient, HttpClientError } from "@effect/platform"
import { Effect } from "effect"
import { Retry, Retryable, RetryPolicy } from "effect-retry"
import { HttpRetry } from "effect-retry/http"

class Busy extends Retryable.TaggedError("Busy")<{}> {}

export const policy: RetryPolicy.RetryPolicy = RetryPolicy.make({ maxAttempts: 2, baseDelay: "1 millis" })
export const attempts: number = policy.maxAttempts

// @ts-expect-error maxAttempts is a number
RetryPolicy.make({ maxAttempts: "two" })

export const program: Effect.Effect<string, Busy> = Effect.fail(new Busy()).pipe(Effect.as("ok"), Retry.retry(policy))

export const client: Effect.Effect<
  HttpClient.HttpClient.With<HttpClientError.HttpClientError>,
  never,
  HttpClient.HttpClient
> = Effect.map(HttpClient.HttpClient, HttpRetry.withRetry(policy))

// @ts-expect-error withRetry takes a RetryPolicy
HttpRetry.withRetry(3)
`

const tsconfig = (module: string, moduleResolution: string, files: ReadonlyArray<string>) =>
  JSON.stringify(
    {
      compilerOptions: {
        module,
        moduleResolution,
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        types: [],
        strict: true,
        noEmit: true,
        // Check the shipped .d.ts files too, not only the consumer's code.
        skipLibCheck: false
      },
      files
    },
    null,
    2
  )

// The run ---------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), "effect-retry-package-"))
const stage = join(tmp, "stage")
const project = join(tmp, "project")
let tarball = ""
let packedFiles: ReadonlyArray<string> = []

beforeAll(async () => {
  // 1. Build into the staged package.
  await npm(["run", "build", "--", "--out", join(stage, "dist")], root)
  for (const file of ["package.json", "README.md", "LICENSE"]) copyFileSync(join(root, file), join(stage, file))

  // 2. Pack it. Scripts are off: prepack would build again, in the stage.
  const packed = await npm(["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], stage)
  const [info] = JSON.parse(packed.stdout) as ReadonlyArray<{ filename: string; files: ReadonlyArray<{ path: string }> }>
  if (info === undefined) throw new Error(`npm pack reported nothing:\n${packed.stdout}`)
  tarball = join(tmp, info.filename)
  packedFiles = info.files.map((file) => file.path).sort()

  // 3. A fresh project with the tarball and the peers. The repository's
  //    overrides come along (they pin builds the registry has for every platform).
  mkdirSync(project)
  const dependencies: Record<string, string> = { "effect-retry": `file:${tarball}` }
  for (const name of peers) dependencies[name] = installedVersion(name)
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify(
      { name: "effect-retry-consumer", private: true, type: "module", dependencies, overrides: rootManifest.overrides ?? {} },
      null,
      2
    )
  )
  // --ignore-scripts: no native builds of optional dependencies (effect-retry has no scripts to run).
  await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], project)

  writeFileSync(join(project, "esm.mjs"), esmScript)
  writeFileSync(join(project, "cjs.cjs"), cjsScript)
  for (const file of ["node16.mts", "node16.cts", "bundler.ts"]) writeFileSync(join(project, file), consumerTs)
  writeFileSync(join(project, "tsconfig.node16.json"), tsconfig("node16", "node16", ["node16.mts", "node16.cts"]))
  writeFileSync(join(project, "tsconfig.bundler.json"), tsconfig("preserve", "bundler", ["bundler.ts"]))
}, 240_000)

// Removing the consumer's node_modules can take longer than the default 10 s hook timeout on a loaded machine.
afterAll(() => {
  if (process.env["KEEP_PACKAGE_TEST_DIR"]) console.log(`package test files kept in ${tmp}`)
  else rmSync(tmp, { recursive: true, force: true })
}, 120_000)

describe("the packed package", () => {
  it("holds the built entry points, the README and the LICENSE, and nothing else", () => {
    const required = [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/esm/package.json",
      "dist/esm/index.js",
      "dist/esm/index.d.ts",
      "dist/esm/http/index.js",
      "dist/esm/http/index.d.ts",
      "dist/cjs/package.json",
      "dist/cjs/index.js",
      "dist/cjs/index.d.ts",
      "dist/cjs/http/index.js",
      "dist/cjs/http/index.d.ts",
      ...(cliSource ? ["dist/esm/cli/main.js"] : [])
    ]
    expect(packedFiles).toEqual(expect.arrayContaining(required))
    expect(packedFiles.filter((path) => !path.startsWith("dist/") && !["LICENSE", "README.md", "package.json"].includes(path))).toEqual([])
    // The CLI is an ES-module bin only; the CommonJS build leaves it out.
    expect(packedFiles.filter((path) => path.startsWith("dist/cjs/cli/"))).toEqual([])
    expect(JSON.parse(readFileSync(join(project, "node_modules/effect-retry/dist/cjs/package.json"), "utf8"))).toEqual({ type: "commonjs" })
    expect(JSON.parse(readFileSync(join(project, "node_modules/effect-retry/dist/esm/package.json"), "utf8"))).toEqual({ type: "module" })
  })

  it("loads both entry points with import", async () => {
    const { stdout } = await run(process.execPath, ["esm.mjs"], project)
    expect(report(stdout)).toEqual({
      entries: [
        expect.stringMatching(/\/node_modules\/effect-retry\/dist\/esm\/index\.js$/),
        expect.stringMatching(/\/node_modules\/effect-retry\/dist\/esm\/http\/index\.js$/)
      ],
      result: "ok",
      calls: 2,
      isPolicy: true,
      withRetry: "function"
    })
  }, 60_000)

  it("loads both entry points with require", async () => {
    const { stdout } = await run(process.execPath, ["cjs.cjs"], project)
    expect(report(stdout)).toEqual({
      entries: [
        expect.stringMatching(/\/node_modules\/effect-retry\/dist\/cjs\/index\.js$/),
        expect.stringMatching(/\/node_modules\/effect-retry\/dist\/cjs\/http\/index\.js$/)
      ],
      result: "ok",
      calls: 2,
      isPolicy: true,
      withRetry: "function"
    })
  }, 60_000)

  const typeCheck = async (config: string) => {
    const { stdout } = await run(process.execPath, [tscJs, "-p", config, "--listFiles"], project)
    return stdout.split("\n").filter((line) => line.includes("/node_modules/effect-retry/"))
  }

  it("type-checks a consumer under moduleResolution node16 (ESM and CommonJS files)", async () => {
    const files = await typeCheck("tsconfig.node16.json")
    // node16.mts resolves through "import", node16.cts through "require".
    expect(files).toEqual(expect.arrayContaining([
      expect.stringMatching(/\/dist\/esm\/index\.d\.ts$/),
      expect.stringMatching(/\/dist\/esm\/http\/index\.d\.ts$/),
      expect.stringMatching(/\/dist\/cjs\/index\.d\.ts$/),
      expect.stringMatching(/\/dist\/cjs\/http\/index\.d\.ts$/)
    ]))
  }, 120_000)

  it("type-checks a consumer under moduleResolution bundler", async () => {
    const files = await typeCheck("tsconfig.bundler.json")
    expect(files).toEqual(expect.arrayContaining([
      expect.stringMatching(/\/dist\/esm\/index\.d\.ts$/),
      expect.stringMatching(/\/dist\/esm\/http\/index\.d\.ts$/)
    ]))
  }, 120_000)

  it("passes publint (strict: warnings count)", async () => {
    const args = ["run", tarball, "--strict"]
    const result = await exec(bin("publint"), args, tmp)
    if (cliSource) {
      expect(result.code, describeRun("publint", args, tmp, result)).toBe(0)
    } else {
      // Until src/cli/main.ts exists the bin file is missing; that must be the only message.
      const messages = result.stdout.split("\n").filter((line) => /^\d+\. /.test(line)).map((line) => line.replace(/^\d+\. /, ""))
      expect(messages, describeRun("publint", args, tmp, result)).toEqual([binMissing])
    }
  }, 60_000)

  it("passes @arethetypeswrong/cli with the strict profile and no ignored rules", async () => {
    // --no-definitely-typed: the package ships its own types; do not look up @types on the registry.
    const args = [tarball, "--format", "ascii", "--no-color", "--no-emoji", "--no-definitely-typed"]
    const result = await exec(bin("attw"), args, tmp)
    expect(result.code, describeRun("attw", args, tmp, result)).toBe(0)
    expect(result.stdout).toContain("No problems found")
  }, 60_000)

  it.skipIf(!cliSource)(
    cliSource
      ? "runs the effect-retry bin with --help and --version"
      : "runs the effect-retry bin with --help (SKIPPED: src/cli/main.ts does not exist yet, so there is no bin to run)",
    async () => {
      const binPath = join(project, "node_modules", ".bin", "effect-retry")
      const help = await run(binPath, ["--help"], project)
      expect(help.stdout.trim(), "--help printed nothing").not.toBe("")
      // The version comes from the installed package.json, found from dist/esm/cli at run time.
      const version = await run(binPath, ["--version"], project)
      expect(version.stdout.trim()).toBe(rootManifest.version)
    },
    60_000
  )
})
