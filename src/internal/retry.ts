import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type { Options } from "../Retry.js"
import type * as RetryEvent from "../RetryEvent.js"
import { type Engine, runWithRetry } from "./loop.js"
import * as Validate from "./validate.js"

const loopOptions = <E>(options: Options<E>) => {
  const cooldown = options.cooldown
  if (cooldown !== undefined) {
    Validate.knownKeys("cooldown", Validate.record("cooldown", cooldown), ["key", "firstAttempts"])
    Validate.label("cooldown.key", cooldown.key)
  }
  return {
    isRetryable: options.while,
    onEvent: options.onEvent,
    budget: options.budget,
    name: options.name,
    cooldown: cooldown === undefined ? undefined : {
      key: () => cooldown.key,
      firstAttempts: cooldown.firstAttempts === true
    }
  }
}

/** The body of `Retry.retry`. */
export const retry = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R, R2>(self: Effect.Effect<A, E, R>, engine: Engine<E, R2>, options: Options<E> = {}) =>
    runWithRetry(() => self, engine, loopOptions(options))
)

/** The body of `Retry.retryOrElse`. */
export const retryOrElse = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R, R2, A2, E2, R3>(
    self: Effect.Effect<A, E, R>,
    engine: Engine<E, R2>,
    orElse: (error: E, reason: RetryEvent.GiveUpReason) => Effect.Effect<A2, E2, R3>,
    options: Options<E> = {}
  ): Effect.Effect<A | A2, E2, R | R2 | R3> =>
    runWithRetry<A | A2, any, R | R3, R2>(() => self, engine as Engine<any, R2>, {
      ...loopOptions(options as Options<any>),
      recover: orElse as (error: any, reason: RetryEvent.GiveUpReason) => Effect.Effect<A | A2, any>
    })
)
