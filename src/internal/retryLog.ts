import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { dual } from "effect/Function"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"

/**
 * The level of the library's Warning log lines in the current fiber;
 * `LogLevel.None` turns every log line of the library off. A global value, so
 * that two copies of the module (a bundle, a dual ESM/CommonJS load) share it.
 */
export const currentLevel: FiberRef.FiberRef<LogLevel.LogLevel> = globalValue(
  Symbol.for("effect-retry/RetryLog/currentLevel"),
  () => FiberRef.unsafeMake<LogLevel.LogLevel>(LogLevel.Warning)
)

export const withLevel: {
  (level: LogLevel.LogLevel): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, level: LogLevel.LogLevel): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, level: LogLevel.LogLevel): Effect.Effect<A, E, R> =>
    Effect.locally(self, currentLevel, level)
)

export const off = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => withLevel(self, LogLevel.None)

export const layer = (level: LogLevel.LogLevel): Layer.Layer<never> =>
  Layer.scopedDiscard(Effect.locallyScoped(currentLevel, level))

export const layerOff: Layer.Layer<never> = layer(LogLevel.None)
