/**
 * The published packages, checked the way a user meets them: build the library
 * and the CLI (cli/, package effect-retry-cli), pack both, install the tarballs
 * into a fresh project, then load both library entry points with `import` and
 * with `require`, type-check a consumer under moduleResolution node16 and
 * bundler, lint the tarballs with publint and @arethetypeswrong/cli, run the
 * `effect-retry` bin of the installed CLI, and run it with `npx` in an empty
 * folder. The library's tarball must hold the library only: no CLI, simulator,
 * SVG or table writer, or demo server.
 *
 * Both builds go to temporary directories (`npm run build -- --out <dir>`,
 * cli/scripts/stage.mjs), so the test never deletes or half-writes a dist/ of
 * the working tree: the library's under node_modules/.cache, the rest in
 * os.tmpdir(), both removed at the end (set KEEP_PACKAGE_TEST_DIR=1 to keep them).
 * Installs prefer npm's cache (--prefer-offline) and are bounded in time.
 */
import { execFile } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = (name: string) => join(root, "node_modules", ".bin", name)
const tscJs = join(root, "node_modules", "typescript", "bin", "tsc")

// The peer dependencies installed next to the library's tarball, at the
// versions this repository is tested with (its node_modules follow
// package-lock.json). The CLI's tarball brings its own dependencies.
const peers = ["effect", "@effect/platform"]
const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version
interface Manifest {
  readonly version: string
  readonly bin?: Record<string, string>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>
  readonly overrides?: Record<string, string>
}
const readManifest = (file: string): Manifest => JSON.parse(readFileSync(file, "utf8")) as Manifest
const rootManifest = readManifest(join(root, "package.json"))
const cliManifest = readManifest(join(root, "cli", "package.json"))

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
// The library is staged inside the repository's node_modules so that the CLI,
// compiled against its .d.ts files, finds effect there (cli/scripts/build.mjs --lib).
const cacheDir = join(root, "node_modules", ".cache")
mkdirSync(cacheDir, { recursive: true })
const libStageRoot = mkdtempSync(join(cacheDir, "effect-retry-package-"))
const libStage = join(libStageRoot, "lib")
const cliStage = join(tmp, "cli")
const project = join(tmp, "project")
const empty = join(tmp, "empty")
let libTarball = ""
let cliTarball = ""
let libFiles: ReadonlyArray<string> = []
let cliFiles: ReadonlyArray<string> = []

const pack = async (dir: string): Promise<[string, ReadonlyArray<string>]> => {
  // Scripts are off: prepack would build again, in the stage.
  const packed = await npm(["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], dir)
  const [info] = JSON.parse(packed.stdout) as ReadonlyArray<{ filename: string; files: ReadonlyArray<{ path: string }> }>
  if (info === undefined) throw new Error(`npm pack reported nothing:\n${packed.stdout}`)
  return [join(tmp, info.filename), info.files.map((file) => file.path).sort()]
}

/** The npx cache folders (~/.npm/_npx/*) that exist now, to remove the ones this test adds. */
const npxCache = async (): Promise<Set<string>> => {
  const cache = (await npm(["config", "get", "cache"], tmp)).stdout.trim()
  const dir = join(cache, "_npx")
  return new Set(existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : [])
}
let npxBefore = new Set<string>()

beforeAll(async () => {
  // 1. The library: build into the stage, pack.
  await npm(["run", "build", "--", "--out", join(libStage, "dist")], root)
  for (const file of ["package.json", "README.md", "LICENSE"]) copyFileSync(join(root, file), join(libStage, file))
  ;[libTarball, libFiles] = await pack(libStage)

  // 2. The CLI: staged (built against the staged library, its dependency on the
  //    library rewritten from "file:.." to a version range), pack.
  await run(process.execPath, [join(root, "cli", "scripts", "stage.mjs"), "--out", cliStage, "--lib", join(libStage, "dist")], root)
  ;[cliTarball, cliFiles] = await pack(cliStage)

  // 3. A fresh project, installed as a user would: `npm install <lib> <cli> effect`
  //    (and @effect/platform, for the consumer that uses effect-retry/http). The
  //    repository's overrides come along (they pin builds the registry has for every platform).
  mkdirSync(project)
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify(
      { name: "effect-retry-consumer", private: true, type: "module", overrides: rootManifest.overrides ?? {} },
      null,
      2
    )
  )
  // --ignore-scripts: no native builds of optional dependencies (neither package has scripts to run).
  await npm(
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      libTarball,
      cliTarball,
      ...peers.map((name) => `${name}@${installedVersion(name)}`)
    ],
    project
  )

  writeFileSync(join(project, "esm.mjs"), esmScript)
  writeFileSync(join(project, "cjs.cjs"), cjsScript)
  for (const file of ["node16.mts", "node16.cts", "bundler.ts"]) writeFileSync(join(project, file), consumerTs)
  writeFileSync(join(project, "tsconfig.node16.json"), tsconfig("node16", "node16", ["node16.mts", "node16.cts"]))
  writeFileSync(join(project, "tsconfig.bundler.json"), tsconfig("preserve", "bundler", ["bundler.ts"]))
  mkdirSync(empty)
  npxBefore = await npxCache()
}, 300_000)

afterAll(async () => {
  // npx keeps what it installed under the npm cache, keyed by the tarball paths: remove what this run added.
  for (const dir of await npxCache()) if (!npxBefore.has(dir)) rmSync(dir, { recursive: true, force: true })
  if (process.env["KEEP_PACKAGE_TEST_DIR"]) console.log(`package test files kept in ${tmp} and ${libStageRoot}`)
  else for (const dir of [tmp, libStageRoot]) rmSync(dir, { recursive: true, force: true })
}, 60_000)

/** Files of a tarball that belong to the command line, not to the library. */
const cliCode = /(^|\/)(cli|main|demo|demoRun|simulat\w*|statusLine|table|explain|options|version)(\/|\.)|\.svg$/i

describe("the library's package", () => {
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
      "dist/cjs/http/index.d.ts"
    ]
    expect(libFiles).toEqual(expect.arrayContaining(required))
    expect(libFiles.filter((path) => !path.startsWith("dist/") && !["LICENSE", "README.md", "package.json"].includes(path))).toEqual([])
    expect(JSON.parse(readFileSync(join(project, "node_modules/effect-retry/dist/cjs/package.json"), "utf8"))).toEqual({ type: "commonjs" })
    expect(JSON.parse(readFileSync(join(project, "node_modules/effect-retry/dist/esm/package.json"), "utf8"))).toEqual({ type: "module" })
  })

  it("holds no command-line, simulator, SVG or table writer, or demo code", () => {
    expect(libFiles.filter((path) => cliCode.test(path))).toEqual([])
    const shipped = libFiles.filter((path) => path.endsWith(".js")).map((path) => readFileSync(join(libStage, path), "utf8"))
    for (const text of shipped) {
      // Code, not comments: the JSDoc of effect-retry/http imports NodeHttpClient in an example.
      expect(text.replace(/\/\*[\s\S]*?\*\//g, "")).not.toMatch(/(from |require\()"(@effect\/cli|@effect\/platform-node|node:http)[/"]|<svg/)
    }
  })

  it("has no bin, and effect as its one required peer (@effect/platform optional, for effect-retry/http; ioredis optional, for effect-retry/redis)", () => {
    const manifest = readManifest(join(project, "node_modules", "effect-retry", "package.json"))
    expect(manifest.bin).toBeUndefined()
    expect(manifest.dependencies ?? {}).toEqual({})
    expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual(["@effect/platform", "effect", "ioredis"])
    expect(manifest.peerDependenciesMeta).toEqual({ "@effect/platform": { optional: true }, ioredis: { optional: true } })
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
    const args = ["run", libTarball, "--strict"]
    const result = await exec(bin("publint"), args, tmp)
    expect(result.code, describeRun("publint", args, tmp, result)).toBe(0)
  }, 60_000)

  it("passes @arethetypeswrong/cli with the strict profile and no ignored rules", async () => {
    // --no-definitely-typed: the package ships its own types; do not look up @types on the registry.
    const args = [libTarball, "--format", "ascii", "--no-color", "--no-emoji", "--no-definitely-typed"]
    const result = await exec(bin("attw"), args, tmp)
    expect(result.code, describeRun("attw", args, tmp, result)).toBe(0)
    expect(result.stdout).toContain("No problems found")
  }, 60_000)
})

describe("the CLI's package (effect-retry-cli)", () => {
  it("holds the bin, the README and the LICENSE; depends on the library by version, not by path", () => {
    expect(cliFiles).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/main.js"]))
    expect(cliFiles.filter((path) => !path.startsWith("dist/") && !["LICENSE", "README.md", "package.json"].includes(path))).toEqual([])
    const manifest = readManifest(join(project, "node_modules", "effect-retry-cli", "package.json"))
    expect(manifest.bin).toEqual({ "effect-retry": "./dist/main.js" })
    expect(manifest.dependencies).toMatchObject({
      "effect-retry": `^${rootManifest.version}`,
      "@effect/cli": expect.stringMatching(/^\^0\.77\./),
      "@effect/platform": expect.stringMatching(/^\^0\.97\./),
      "@effect/platform-node": expect.stringMatching(/^\^0\.108\./),
      effect: expect.stringMatching(/^\^3\./)
    })
  })

  it("imports the library through its public entry points only", () => {
    const code = cliFiles.filter((path) => path.endsWith(".js")).map((path) => readFileSync(join(cliStage, path), "utf8")).join("\n")
    const specifiers = [...code.matchAll(/from "(effect-retry[^"]*)"/g)].map((match) => match[1])
    expect(specifiers.length).toBeGreaterThan(0)
    expect(new Set(specifiers)).toEqual(new Set(["effect-retry", "effect-retry/http"]))
  })

  it("passes publint (strict: warnings count)", async () => {
    const args = ["run", cliTarball, "--strict"]
    const result = await exec(bin("publint"), args, tmp)
    expect(result.code, describeRun("publint", args, tmp, result)).toBe(0)
  }, 60_000)

  it("after `npm install <lib> <cli> effect`, `npx effect-retry --help` and `--version` work", async () => {
    const help = await npm(["exec", "--offline", "--", "effect-retry", "--help"], project)
    expect(help.stdout).toContain("effect-retry")
    for (const command of ["demo", "explain", "simulate"]) expect(help.stdout).toContain(command)
    // The version comes from the installed package.json, found from dist/ at run time.
    const version = await run(join(project, "node_modules", ".bin", "effect-retry"), ["--version"], project)
    expect(version.stdout.trim()).toBe(cliManifest.version)
    // A real command: explain a preset.
    const explain = await run(join(project, "node_modules", ".bin", "effect-retry"), ["explain", "--preset", "llm"], project)
    expect(explain.stdout).toContain("Delay before each retry")
  }, 120_000)

  it("runs with npx in an empty folder: `npx --yes --package <cli> --package <lib> effect-retry --help`", async () => {
    const help = await npm(
      ["exec", "--yes", "--prefer-offline", "--no-audit", "--no-fund", "--package", cliTarball, "--package", libTarball, "--", "effect-retry", "--help"],
      empty
    )
    for (const command of ["demo", "explain", "simulate"]) expect(help.stdout).toContain(command)
    expect(readdirSync(empty)).toEqual([])
  }, 240_000)
})

describe("the repository's lock file", () => {
  it("`npm install` leaves package-lock.json unchanged", async () => {
    // The manifests and the lock, copied: `npm install --package-lock-only` rewrites the
    // lock from the manifests without touching node_modules, so a lock that is out of step
    // with package.json or cli/package.json (a missing bin entry, say) shows up as a change.
    const copy = join(tmp, "lock")
    mkdirSync(join(copy, "cli"), { recursive: true })
    for (const file of ["package.json", "package-lock.json", "cli/package.json"]) copyFileSync(join(root, file), join(copy, file))
    await npm(["install", "--package-lock-only", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], copy)
    expect(readFileSync(join(copy, "package-lock.json"), "utf8")).toBe(readFileSync(join(root, "package-lock.json"), "utf8"))
  }, 120_000)
})
