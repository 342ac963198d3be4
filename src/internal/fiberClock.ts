import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as Fiber from "effect/Fiber"

let lastServices: unknown
let lastClock: Clock.Clock | undefined

/**
 * The fiber's Clock, read without running an effect. The last lookup is kept:
 * the default services change only where a test provides its own clock, and
 * a lookup costs about as much as reading the time.
 */
export const clockOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Clock.Clock => {
  const services = fiber.currentDefaultServices
  if (services !== lastServices || lastClock === undefined) {
    lastClock = Context.get(services, Clock.Clock)
    lastServices = services
  }
  return lastClock
}
