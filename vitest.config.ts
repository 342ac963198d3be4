import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  // The CLI workspace (cli/) imports the library by its package name; in a
  // checkout that name means the sources, as cli/tsconfig.json says for tsc.
  resolve: {
    alias: [
      { find: /^effect-retry$/, replacement: source("./src/index.ts") },
      { find: /^effect-retry\/http$/, replacement: source("./src/http/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "cli/test/**/*.test.ts"],
    testTimeout: 30_000,
    // The library logs each retry at Warning level; show a test's output only when it fails.
    silent: "passed-only"
  }
})
