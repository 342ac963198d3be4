/**
 * The test Redis helper itself: a server of the test's own answers on
 * 127.0.0.1, keeps nothing on disk, survives a SIGKILL-and-start on the same
 * port, and is gone after `stop`.
 */
import { Redis } from "ioredis"
import { afterAll, beforeAll, expect, it } from "vitest"
import { describeRedis, type RedisServer, startRedis } from "./support/redis.js"

describeRedis("test redis-server", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("listens on loopback with persistence off, and starts again on the same port after SIGKILL", async () => {
    const connect = () => new Redis(server.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false })
    const client = connect()
    await client.connect()
    expect(await client.config("GET", "save")).toEqual(["save", ""])
    expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "no"])
    expect(await client.config("GET", "bind")).toEqual(["bind", "127.0.0.1"])
    await client.set("k", "v")
    client.disconnect()

    await server.kill("SIGKILL")
    const refused = connect()
    refused.on("error", () => {})
    await expect(refused.connect()).rejects.toThrow()
    refused.disconnect()

    await server.start()
    const again = connect()
    await again.connect()
    // Nothing was persisted: the key is gone with the process.
    expect(await again.get("k")).toBeNull()
    again.disconnect()
  })
})
