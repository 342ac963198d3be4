import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as Fiber from "effect/Fiber"

let lastServices: unknown
let lastClock: Clock.Clock | undefined

/**
 * The fiber's Clock, read without running an effect. The last lookup is kept
 * for as long as the fiber's default services are the same object: they are
 * replaced, never changed in place (by a TestClock, `Effect.withClock`,
 * `withRandom` and the like), and a lookup costs about as much as reading the
 * time.
 */
export const clockOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Clock.Clock => {
  const services = fiber.currentDefaultServices
  if (services !== lastServices || lastClock === undefined) {
    lastClock = Context.get(services, Clock.Clock)
    lastServices = services
  }
  return lastClock
}
