import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Cooldown from "../../internal/cooldown.js"
import type * as RetryCooldown from "../../RetryCooldown.js"
import { scripted } from "./scripts.js"
import { call, connectDuplicate, type Store } from "./store.js"

const Remaining = Schema.NumberFromString
const All = Schema.Array(Schema.String)

/** A published cool-down: "<remaining ms> <key>". */
const parse = (message: string): { readonly key: string; readonly millis: number } | undefined => {
  const space = message.indexOf(" ")
  if (space <= 0) return undefined
  const millis = Number(message.slice(0, space))
  if (!Number.isFinite(millis) || millis <= 0) return undefined
  return { key: message.slice(space + 1), millis }
}

/**
 * The fleet-wide cool-down store. Its reads are local: a table of this
 * process, which Redis pub/sub keeps up to date (a message carries the time
 * left, not an instant, so hosts need no common clock). A record updates the
 * local table at once and sends the cool-down to Redis in a fiber of the
 * layer's scope, so the call that received the hint does not wait on Redis.
 * Each time the subscriber connects (at start, after Redis comes back), the
 * cool-downs still running are read from Redis; after a reconnection, this
 * process's running cool-downs are recorded again, for a Redis that restarted.
 */
export const make = (store: Store): Effect.Effect<RetryCooldown.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const table = new Cooldown.Table()
    const clock = yield* Effect.clock
    const runtime = yield* Effect.runtime<never>()
    const scope = yield* Effect.scope
    const key = `${store.prefix}cooldowns`
    const channel = `${store.prefix}cooldown`
    const client = scripted(store.client)

    const learn = (member: string, millis: number) => {
      const now = clock.unsafeCurrentTimeMillis()
      table.set(member, now + millis, now)
    }

    const sync = call(store, "cooldown-sync", () => client.erCooldownAll(key), All).pipe(
      Effect.match({
        onFailure: () => {},
        onSuccess: (entries) => {
          for (let i = 0; i + 1 < entries.length; i += 2) {
            const millis = Number(entries[i + 1])
            if (millis > 0) learn(entries[i]!, millis)
          }
        }
      })
    )

    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() => store.duplicate()),
      (subscriber) => Effect.sync(() => subscriber.disconnect())
    )
    subscriber.on("message", (from: string, message: string) => {
      if (from !== channel) return
      const parsed = parse(message)
      if (parsed !== undefined) learn(parsed.key, parsed.millis)
    })
    const subscribe = call(store, "cooldown-subscribe", () => subscriber.subscribe(channel), Schema.Unknown).pipe(
      Effect.zipRight(sync),
      Effect.ignore
    )
    const send = (member: string, millis: number) =>
      Effect.ignore(call(
        store,
        "cooldown",
        () => client.erCooldownRecord(key, member, Math.ceil(millis), channel),
        Remaining
      ))
    // A Redis that restarted without persistence has forgotten the running
    // cool-downs: each process records again those it holds (the later of
    // two ends wins, so a copy never shortens one).
    const restore = Effect.suspend(() =>
      Effect.forEach(table.running(clock.unsafeCurrentTimeMillis()), ([member, millis]) => send(member, millis), {
        discard: true
      })
    )
    // A reconnected subscriber subscribes again and catches up on what it
    // missed; a reconnected client (which sends the records) restores.
    let connecting = true
    const onReconnect = (effect: Effect.Effect<void>) => () => {
      if (!connecting) Runtime.runFork(runtime)(Effect.forkIn(effect, scope))
    }
    subscriber.on("ready", onReconnect(subscribe))
    const restoreOnReady = onReconnect(restore)
    store.client.on("ready", restoreOnReady)
    yield* Effect.addFinalizer(() => Effect.sync(() => store.client.off("ready", restoreOnReady)))
    // At start the layer waits (within the time limit) until it is subscribed
    // and has read the cool-downs already running, so that a process that is
    // ready knows them; a Redis that is down at start is caught up with later.
    yield* connectDuplicate(subscriber, store.timeout)
    connecting = false
    yield* subscriber.status === "ready" ? subscribe : Effect.void

    return Cooldown.fromTable(table, (member, millis) => Effect.asVoid(Effect.forkIn(send(member, millis), scope)))
  })
