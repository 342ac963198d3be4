/**
 * Redis for the tests: `describeRedis` runs a suite where a redis-server is
 * installed. Where none is, it skips the suite with a title that says so; with
 * CI=true a missing redis-server fails the run instead (`.ci/run` installs
 * Debian's package). Starting and stopping servers: ./redisServer.ts.
 */
import type { Redis } from "ioredis"
import { afterAll, beforeAll, describe, it } from "vitest"
import { type RedisServer, redisServerPath, startRedis } from "./redisServer.js"
import { observer } from "./redisStats.js"

export { freePort, type RedisServer, redisServerPath, startRedis } from "./redisServer.js"

const inCi = process.env["CI"] !== undefined && process.env["CI"] !== "" && process.env["CI"] !== "false"

/**
 * `describe` for tests that need a real redis-server. Without one: in CI a
 * failing test says what is missing; elsewhere the suite is skipped and its
 * title (and a line on stderr) names what was skipped.
 */
export const describeRedis = (name: string, body: () => void): void => {
  if (redisServerPath !== undefined) {
    describe(name, body)
    return
  }
  if (inCi) {
    describe(name, () => {
      it("needs redis-server", () => {
        throw new Error("redis-server is not on PATH, and CI requires it (.ci/run installs Debian's redis-server package)")
      })
    })
    return
  }
  process.stderr.write(`effect-retry tests: SKIPPED "${name}": redis-server is not on PATH (install redis-server to run them)\n`)
  describe.skip(`${name} [skipped: redis-server is not on PATH]`, body)
}


/**
 * Starts a redis-server for the enclosing suite (beforeAll) and stops it
 * (afterAll), with a plain client to read what the library wrote. Call it
 * inside `describeRedis`.
 */
export const useRedis = (): { readonly server: () => RedisServer; readonly watch: () => Redis } => {
  let server: RedisServer | undefined
  let watch: Redis | undefined
  beforeAll(async () => {
    server = await startRedis()
    watch = observer(server.port)
  })
  afterAll(async () => {
    watch?.disconnect()
    await server?.stop()
  })
  return { server: () => server!, watch: () => watch! }
}
