// Refuses `npm pack` / `npm publish` of cli/ itself: its package.json depends
// on the library as "file:..", which must not be published. Pack the staged
// package instead (scripts/stage.mjs says how).
console.error(
  "effect-retry-cli: do not pack cli/ directly (it depends on \"file:..\").\n" +
    "Run: node cli/scripts/stage.mjs --out DIR && npm pack DIR"
)
process.exit(1)
