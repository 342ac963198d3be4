import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Schema from "effect/Schema"
import { Redis, type RedisOptions } from "ioredis"
import { InvalidRetryPolicy } from "../../internal/errors.js"
import * as Validate from "../../internal/validate.js"
import * as RetryLog from "../../RetryLog.js"
import type * as RedisStore from "../RedisStore.js"

/** A Redis call that did not give a usable answer in time. Never leaves the library. */
export class StoreError extends Data.TaggedError("RedisStoreError")<{
  readonly operation: string
  readonly reason: string
  /** The command was refused before it was written (no connection): Redis cannot have run it. */
  readonly unsent: boolean
}> {
  override get message(): string {
    return `Redis ${this.operation}: ${this.reason}`
  }
}

/** The counter of failed Redis calls, tagged with `operation`. */
export const errors = Metric.counter("effect_retry_redis_errors", {
  description: "Redis calls of effect-retry that failed, timed out or answered something unexpected",
  incremental: true
})

/** What `RedisStore.layer` resolves its options to. */
export interface Store {
  readonly client: Redis
  /** Opens a further connection with the same settings (the cool-down's subscriber). */
  readonly duplicate: () => Redis
  readonly prefix: string
  readonly timeout: Duration.Duration
  /** Whether the last call succeeded: a change is logged once, not per call. */
  healthy: boolean
  /** Why the connection is down, as ioredis last said (a wrong password, a refused connection), until it is up again. */
  readonly connection: ConnectionState
}

/** The last connection error of a store's connections, shown when a call fails for want of a connection. */
export interface ConnectionState {
  lastError: string | undefined
}

/** The connection options, declared (with their documentation) once, in the public module. */
export type StoreOptions = RedisStore.Options

// Userinfo (user:password@) never reaches a message.
const withoutUserinfo = (text: string): string => text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, "$1")

// What ioredis rejects a command with, without writing it, when it has no
// connection and its offline queue is off (as the library sets it).
const NOT_WRITTEN = "Stream isn't writeable and enableOfflineQueue options is false"

const isUnsent = (cause: unknown): boolean => cause instanceof Error && cause.message === NOT_WRITTEN

const reasonOf = (cause: unknown): string => {
  if (cause instanceof Error) return withoutUserinfo(cause.message).slice(0, 200)
  return typeof cause
}

// One line when Redis stops answering and one when it answers again, not one
// per call; at the level `RetryLog` sets for the library's warnings (none when off).
const logChange = (store: Store, healthy: boolean, error?: StoreError): Effect.Effect<void> => {
  if (store.healthy === healthy) return Effect.void
  store.healthy = healthy
  return Effect.flatMap(FiberRef.get(RetryLog.currentLevel), (level) => {
    if (level._tag === "None") return Effect.void
    return healthy
      ? Effect.logInfo("effect-retry: Redis answers again; shared budgets and cool-downs are back")
      : Effect.logWithLevel(
        level,
        `effect-retry: Redis cannot be used (${error?.message ?? "unknown"}); until it can, shared budgets ` +
          "follow their onStoreError mode and each process keeps to the cool-downs it knows"
      )
  })
}

/** Why a command was refused before it was written: the connection is down, and ioredis may have said why. */
const notConnected = (store: Store): string => {
  const why = store.connection.lastError
  return why === undefined ? "not connected" : `not connected: ${why}`
}

/**
 * Runs one Redis call with the store's time limit and decodes its reply. Any
 * failure, a timeout or an unexpected reply is a `StoreError`, counted in
 * `errors`: never a defect and never an unhandled rejection.
 */
export const call = <A, I>(
  store: Store,
  operation: string,
  run: (client: Redis) => Promise<unknown>,
  reply: Schema.Schema<A, I>
): Effect.Effect<A, StoreError> => {
  const decode = Schema.decodeUnknown(reply)
  return Effect.tryPromise({
    try: () => run(store.client),
    catch: (cause) =>
      isUnsent(cause)
        ? new StoreError({ operation, reason: notConnected(store), unsent: true })
        : new StoreError({ operation, reason: reasonOf(cause), unsent: false })
  }).pipe(
    Effect.timeoutFail({
      duration: store.timeout,
      onTimeout: () =>
        new StoreError({ operation, reason: `no answer within ${Duration.format(store.timeout)}`, unsent: false })
    }),
    Effect.flatMap((value) =>
      Effect.mapError(decode(value), () => new StoreError({ operation, reason: "unexpected reply", unsent: false }))
    ),
    Effect.tapBoth({
      onFailure: (error) =>
        Effect.zipRight(Metric.increment(Metric.tagged(errors, "operation", operation)), logChange(store, false, error)),
      onSuccess: () => logChange(store, true)
    })
  )
}

/**
 * The settings that keep a Redis call from waiting: no offline queue, no
 * resending, a time limit per command; and closing waits for a socket no
 * longer than that limit (ioredis's 2 s default kept a process alive after
 * its layers had closed when Redis was down).
 */
const safeOptions = (timeoutMillis: number): RedisOptions => {
  const limit = Math.max(1, Math.ceil(timeoutMillis))
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: limit,
    disconnectTimeout: limit
  }
}

const open = (url: string, options: RedisOptions, connection: ConnectionState): Redis => {
  const client = new Redis(url, options)
  // A failed command reaches its caller as a rejected promise; without a
  // listener, ioredis would print each connection error to the console. The
  // last one is kept to say why commands are refused (WRONGPASS, ECONNREFUSED).
  client.on("error", (error: unknown) => {
    connection.lastError = reasonOf(error)
  })
  client.on("ready", () => {
    connection.lastError = undefined
  })
  return client
}

const connect = (client: Redis, limit: Duration.Duration): Effect.Effect<void> =>
  Effect.ignore(Effect.timeout(Effect.tryPromise(() => client.connect()), limit))

/** Whether ioredis can read a URL: it parses it as a URL and decodes its user and password. */
const isReadableUrl = (text: string): boolean => {
  try {
    const url = new URL(text)
    decodeURIComponent(url.username)
    decodeURIComponent(url.password)
    return true
  } catch {
    return false
  }
}

/**
 * The URL to connect to, plain or `Redacted`. One that is not a redis:// or
 * rediss:// URL, or that does not parse (a port out of range, a raw `%` in
 * the password), is refused here with a typed error that never holds it:
 * ioredis would throw a TypeError carrying the whole URL, password included.
 */
const redisUrl = (value: string | Redacted.Redacted<string> | undefined): string => {
  const url = Redacted.isRedacted(value) ? Redacted.value(value) : value ?? "redis://127.0.0.1:6379"
  const problem = typeof url !== "string" || !/^rediss?:\/\//.test(url)
    ? "a value that does not start with redis:// or rediss://"
    : !isReadableUrl(url)
    ? "a URL that does not parse"
    : undefined
  if (problem !== undefined) {
    throw new InvalidRetryPolicy({
      field: "redis.url",
      value: `${problem} (not shown: it may hold a password)`,
      allowed: "redis://[user:password@]host[:port][/db] or rediss://..., with a port up to 65535 and %-encoded user and password"
    })
  }
  return url
}

/** Reads the options `layerConfig` was given; those left out stay out (and take their defaults). */
export const readConfig = (options: RedisStore.ConfigOptions): Effect.Effect<StoreOptions, ConfigError.ConfigError> => {
  const given = Object.entries(options).filter(([, config]) => config !== undefined)
  return Effect.map(
    Config.all(Object.fromEntries(given) as Record<string, Config.Config<unknown>>),
    (values) => values as StoreOptions
  )
}

/** `makeStore` for options read from configuration: a bad option fails the effect instead of throwing. */
export const makeStoreFrom = (options: StoreOptions): Effect.Effect<Store, InvalidRetryPolicy, Scope.Scope> =>
  Effect.flatten(Effect.try({
    try: () => makeStore(options),
    catch: (error) => {
      if (error instanceof InvalidRetryPolicy) return error
      throw error
    }
  }))

/**
 * Opens the connection and waits (at most `connectTimeout`) for it. A Redis
 * that is down at start is not an error: the client keeps reconnecting and the
 * budgets follow their mode meanwhile.
 */
export const makeStore = (options: StoreOptions): Effect.Effect<Store, never, Scope.Scope> => {
  Validate.knownKeys("redis", Validate.record("redis", options), ["url", "prefix", "timeout", "connectTimeout", "redis"])
  const url = redisUrl(options.url)
  const prefix = options.prefix ?? "effect-retry:"
  if (typeof prefix !== "string") throw Validate.invalid("redis.prefix", prefix, "a string")
  const timeoutMillis = Validate.millisAbove("redis.timeout", options.timeout ?? "200 millis", 0)
  const connectTimeout = Duration.millis(
    Validate.millisAbove("redis.connectTimeout", options.connectTimeout ?? "1 second", 0)
  )
  const settings: RedisOptions = { ...options.redis, ...safeOptions(timeoutMillis) }
  return Effect.gen(function*() {
    const connection: ConnectionState = { lastError: undefined }
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => open(url, settings, connection)),
      (client) => Effect.sync(() => client.disconnect())
    )
    yield* connect(client, connectTimeout)
    return {
      client,
      duplicate: () => open(url, settings, connection),
      prefix,
      timeout: Duration.millis(timeoutMillis),
      healthy: true,
      connection
    }
  })
}

/** Waits (at most `limit`) until a duplicated connection is up. */
export const connectDuplicate = connect
