/**
 * A redis-server of the test's own: started on 127.0.0.1 and a free port with
 * persistence off (`--save "" --appendonly no`), stopped by the test. It can be
 * killed with SIGKILL and started again on the same port, for the fault tests.
 * No test framework here: the bench uses it too (tests use ./redis.ts).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { accessSync, constants } from "node:fs"
import * as Net from "node:net"
import { delimiter, join } from "node:path"

/** The redis-server on PATH, or undefined. */
export const redisServerPath: string | undefined = (() => {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue
    const candidate = join(dir, "redis-server")
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return undefined
})()

/** A free TCP port on 127.0.0.1 (bound once, then released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Sends PING over a raw socket; true when the answer is +PONG, within `timeoutMs`. */
const ping = (port: number, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    let answer = ""
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => {
      answer += data.toString("latin1")
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"))
    })
    socket.on("error", () => done(false))
  })

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Starts the server again on the same port (after `kill` or `stop`). */
  readonly start: () => Promise<void>
  /** Kills the process with `signal` (SIGKILL by default) and waits until it has exited. */
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
  /** Stops the server (SIGTERM, then SIGKILL after 2 s). Safe to call twice. */
  readonly stop: () => Promise<void>
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

/** Starts a redis-server on 127.0.0.1 and a free port, waiting (at most 10 s) until it answers PING. */
export const startRedis = async (): Promise<RedisServer> => {
  if (redisServerPath === undefined) throw new Error("redis-server is not on PATH")
  const path = redisServerPath
  const port = await freePort()
  let child: ChildProcess | undefined
  let output = ""

  const start = async () => {
    output = ""
    const proc = spawn(path, [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--save", "",
      "--appendonly", "no",
      "--daemonize", "no",
      "--protected-mode", "yes",
      "--loglevel", "warning",
      "--dir", "/tmp"
    ], { stdio: ["ignore", "pipe", "pipe"] })
    child = proc
    proc.stdout?.on("data", (data: Buffer) => void (output += data.toString()))
    proc.stderr?.on("data", (data: Buffer) => void (output += data.toString()))
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null) break
      if (await ping(port, 200)) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    proc.kill("SIGKILL")
    await exited(proc)
    throw new Error(`redis-server did not start on port ${port}:\n${output}`)
  }

  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    const proc = child
    if (proc === undefined) return
    child = undefined
    proc.kill(signal)
    await exited(proc)
  }

  const stop = async () => {
    const proc = child
    if (proc === undefined) return
    child = undefined
    proc.kill("SIGTERM")
    const timer = setTimeout(() => proc.kill("SIGKILL"), 2000)
    await exited(proc)
    clearTimeout(timer)
  }

  await start()
  return { port, url: `redis://127.0.0.1:${port}`, start, kill, stop }
}
