/**
 * A TCP proxy on 127.0.0.1 in front of a test's Redis, which can cut the
 * connections through it off and refuse new ones: a network partition of
 * one process, while the rest of the fleet still reaches Redis.
 */
import * as Net from "node:net"
import { freePort } from "./redisServer.js"

export interface RedisProxy {
  readonly url: string
  /** Closes every connection through the proxy and refuses new ones. */
  readonly cut: () => void
  /** Accepts connections again. */
  readonly restore: () => void
  readonly close: () => Promise<void>
}

export const startProxy = async (targetPort: () => number): Promise<RedisProxy> => {
  const sockets = new Set<Net.Socket>()
  let blocked = false
  const listener = Net.createServer((client) => {
    if (blocked) return void client.destroy()
    const upstream = Net.connect({ host: "127.0.0.1", port: targetPort() })
    sockets.add(client).add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on("error", drop).on("close", drop)
    upstream.on("error", drop).on("close", drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  const port = await freePort()
  await new Promise<void>((resolve) => listener.listen(port, "127.0.0.1", () => resolve()))
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: () => {
      blocked = true
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    },
    restore: () => {
      blocked = false
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => listener.close(() => resolve()))
    }
  }
}
