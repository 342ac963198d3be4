/**
 * `npm run simulate [-- FLAGS]`: `effect-retry simulate` (./simulate.js) with
 * the same flags (`npm run simulate -- --help`).
 */
import "./scriptCwd.js"
import { main } from "./app.js"

main(["simulate", ...process.argv.slice(2)])
