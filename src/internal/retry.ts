import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type { Options } from "../Retry.js"
import type * as RetryEvent from "../RetryEvent.js"
import { type Call, type Engine, makeRunner, type Runner } from "./loop.js"
import * as Validate from "./validate.js"

const OPTION_KEYS = ["while", "onEvent", "budget", "name", "cooldown"]

const loopOptions = <E>(options: Options<E>) => {
  Validate.knownKeys("", Validate.record("options", options), OPTION_KEYS)
  const cooldown = options.cooldown
  if (cooldown !== undefined) {
    Validate.knownKeys("cooldown", Validate.record("cooldown", cooldown), ["key", "firstAttempts"])
    Validate.label("cooldown.key", cooldown.key)
    Validate.optionalBoolean("cooldown.firstAttempts", cooldown.firstAttempts)
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

/** A call whose every attempt is the same effect. */
class Repeated<A, E, R> implements Call<A, E, R> {
  constructor(readonly self: Effect.Effect<A, E, R>) {}
  attempt(): Effect.Effect<A, E, R> {
    return this.self
  }
}

/** The runners of calls made without options, one per engine. */
const plainRunners = new WeakMap<object, Runner<any, any, any>>()

const runnerOf = <A, E, R2>(engine: Engine<E, R2>, options: Options<E> | undefined): Runner<A, E, R2> => {
  if (options !== undefined) return makeRunner(engine, loopOptions(options))
  let runner = plainRunners.get(engine)
  if (runner === undefined) {
    runner = makeRunner(engine, {})
    plainRunners.set(engine, runner)
  }
  return runner
}

/** The body of `Retry.retry`. */
export const retry = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R, R2>(self: Effect.Effect<A, E, R>, engine: Engine<E, R2>, options?: Options<E>) =>
    runnerOf<A, E, R2>(engine, options).run(new Repeated(self))
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
    makeRunner<A | A2, any, R2>(engine as Engine<any, R2>, {
      ...loopOptions(options as Options<any>),
      recover: orElse as (error: any, reason: RetryEvent.GiveUpReason) => Effect.Effect<A | A2, any>
    }).run(new Repeated<A | A2, any, R | R3>(self))
)
