/**
 * `npm run demo | simulate | cli` at the repository root delegate to this
 * workspace, and npm runs a workspace's scripts in the workspace's folder
 * (cli/). Paths the user typed (`--out DIR`, `--svg FILE`) and the default
 * `./simulation` must be relative to where the user typed the command, which
 * npm keeps in INIT_CWD: go back there. Only when this package's own npm
 * script is running, so an installed bin is never moved.
 */
const scripts = new Set(["cli", "demo", "simulate"])

const initCwd = process.env["INIT_CWD"]
if (
  initCwd !== undefined && process.env["npm_package_name"] === "effect-retry-cli" &&
  scripts.has(process.env["npm_lifecycle_event"] ?? "")
) {
  process.chdir(initCwd)
}
