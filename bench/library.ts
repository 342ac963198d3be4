/**
 * The library as users run it: the compiled JavaScript under dist/esm, which
 * `npm run bench` builds first. Loading src/ through tsx would measure tsx's
 * transpiled output instead (it keeps function names by wrapping every
 * closure, which costs more than the code being measured). The types come
 * from src/, so the benchmarks type-check without a build.
 */
import type * as Core from "../src/index.js"
import type * as Http from "../src/http/index.js"
import type * as Redis from "../src/redis/index.js"

const dist = new URL("../dist/esm/", import.meta.url)

const core = (await import(new URL("index.js", dist).href)) as typeof Core
const http = (await import(new URL("http/index.js", dist).href)) as typeof Http
const redis = (await import(new URL("redis/index.js", dist).href)) as typeof Redis

export const { Retry, RetryBudget, RetryPolicy } = core
export const { HttpRetry } = http
export const { RedisBudget, RedisStore } = redis
