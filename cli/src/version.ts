/**
 * The package version, read at run time from the package's own package.json.
 *
 * The bin runs from three places: cli/src/main.ts (tsx, in a checkout),
 * cli/dist/main.js (the build) and node_modules/effect-retry-cli/dist/main.js
 * (installed). The directories in between differ, so the file is found by
 * walking up from this module to the first package.json whose name is
 * effect-retry-cli.
 * Reading it at run time keeps a single source of truth: no generated constant
 * to forget to regenerate when the version is bumped.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const PACKAGE_NAME = "effect-retry-cli"

/** What is printed when no package.json is found (a bundled copy, say). */
export const UNKNOWN_VERSION = "0.0.0-unknown"

const readManifest = (fs: FileSystem.FileSystem, file: string) =>
  fs.readFileString(file).pipe(
    Effect.flatMap((text) =>
      Effect.try(() => JSON.parse(text) as { readonly name?: unknown; readonly version?: unknown } | null)
    ),
    Effect.option
  )

/** The version in the nearest package.json named effect-retry-cli above `from` (a file URL or path). */
export const findVersion = (from: string): Effect.Effect<string, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    let dir = path.dirname(from.startsWith("file:") ? yield* Effect.orDie(path.fromFileUrl(new URL(from))) : from)
    for (;;) {
      const manifest = yield* readManifest(fs, path.join(dir, "package.json"))
      if (
        Option.isSome(manifest) && manifest.value !== null && manifest.value.name === PACKAGE_NAME && typeof manifest.value.version === "string"
      ) {
        return manifest.value.version
      }
      const parent = path.dirname(dir)
      if (parent === dir) return UNKNOWN_VERSION
      dir = parent
    }
  })

/** The version of this package. */
export const version: Effect.Effect<string, never, FileSystem.FileSystem | Path.Path> = findVersion(import.meta.url)
