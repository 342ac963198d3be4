import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // The library logs each retry at Warning level; show a test's output only when it fails.
    silent: "passed-only"
  }
})
