import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Budget from "../../internal/budget.js"
import * as Validate from "../../internal/validate.js"
import * as RetryBudget from "../../RetryBudget.js"
import type { Mode } from "../RedisBudget.js"
import { scripted } from "./scripts.js"
import { call, type Store } from "./store.js"


/** Options every shared budget has, besides those of its kind. */
export interface SharedOptions {
  readonly name: string
  readonly onStoreError?: Mode | undefined
  readonly flushEvery?: Duration.DurationInput | undefined
}

const SHARED_KEYS = ["name", "onStoreError", "flushEvery"] as const

interface Shared {
  readonly name: string
  readonly mode: Mode
  readonly flushEvery: Duration.Duration
}

const sharedOf = (options: SharedOptions): Shared => ({
  name: Validate.label("name", options.name),
  mode: Validate.oneOf("onStoreError", options.onStoreError ?? "local", ["allow", "deny", "local"]),
  flushEvery: Duration.millis(Validate.millisAbove("flushEvery", options.flushEvery ?? "200 millis", 0))
})

const Granted = Schema.Tuple(Schema.Literal(0, 1), Schema.NumberFromString)
const Available = Schema.NumberFromString
const RatioGranted = Schema.Tuple(Schema.Literal(0, 1), Schema.Number, Schema.Number)
const RatioState = Schema.Tuple(Schema.Number, Schema.Number)

/** What a withdrawal falls back to when Redis cannot answer. */
const fallback = (
  mode: Mode,
  local: RetryBudget.Service,
  kind: RetryBudget.RetryKind
): Effect.Effect<Option.Option<number>> => {
  switch (mode) {
    case "allow":
      return Effect.succeed(Option.some(0))
    case "deny":
      return Effect.succeed(Option.none())
    case "local":
      return local.withdraw(kind)
  }
}

/**
 * Runs `flush` every `every` in a fiber of the layer's scope, and once more
 * when the scope closes, so that counts gathered last are not lost.
 */
const flushing = (flush: Effect.Effect<void>, every: Duration.Duration): Effect.Effect<void, never, Scope.Scope> =>
  Effect.zipRight(
    Effect.addFinalizer(() => flush),
    Effect.asVoid(Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(every), flush))))
  )

/** Withdrawals given up on that a batch takes back, at most: Redis remembers as many. */
const WITHDRAWALS_KEPT = 64

/**
 * What one budget of a process tells Redis beside its counts, so that nothing
 * it sends counts twice and nothing it gave up on counts at all: its batches
 * are numbered (a batch sent again is applied once), its withdrawals too (the
 * flush takes back a withdrawal whose answer did not come in time, which
 * Redis may have run). The keys carry an id of the budget's own, from the
 * platform's random UUIDs: Effect's Random is seeded alike in every process
 * by tests, and by some programs.
 */
class Sender {
  readonly batchKey: string
  readonly withdrawalsKey: string
  private batches = 0
  private withdrawals = 0
  /** Withdrawals whose answer did not come, to be taken back by the next batch. */
  private gaveUpOn: Array<number> = []

  constructor(key: string) {
    const id = globalThis.crypto.randomUUID()
    this.batchKey = `${key}:batch:${id}`
    this.withdrawalsKey = `${key}:withdrawals:${id}`
  }

  nextWithdrawal(): number {
    return ++this.withdrawals
  }

  giveUpOn(withdrawal: number): void {
    this.gaveUpOn.push(withdrawal)
    if (this.gaveUpOn.length > WITHDRAWALS_KEPT) this.gaveUpOn.shift()
  }

  get hasTakenBack(): boolean {
    return this.gaveUpOn.length > 0
  }

  /** A new batch of `content`, with the withdrawals given up on so far. */
  batch<A>(at: number, content: A): Batch<A> {
    const takenBack = this.gaveUpOn
    this.gaveUpOn = []
    return { seq: ++this.batches, at, content, takenBack }
  }
}

/** A batch sent and not yet answered, kept to be sent again as it was. */
interface Batch<A> {
  readonly seq: number
  readonly at: number
  readonly content: A
  readonly takenBack: ReadonlyArray<number>
}

export interface TokenBucketOptions extends RetryBudget.TokenBucketOptions, SharedOptions {
  readonly ttl?: Duration.DurationInput | undefined
}

/**
 * A token bucket held in Redis. A withdrawal is one script call; refunds are
 * added up in the process and sent by the flush fiber, so a success never
 * waits on Redis.
 */
export const makeTokenBucket = (
  options: TokenBucketOptions
): (store: Store) => Effect.Effect<RetryBudget.Service, never, Scope.Scope> => {
  const plan = Budget.tokenBucketPlan(options, [...SHARED_KEYS, "ttl"])
  const shared = sharedOf(options)
  const ttl = Math.ceil(Validate.millisAbove("ttl", options.ttl ?? "10 minutes", 0))
  return (store) => Effect.gen(function*() {
    const key = `${store.prefix}budget:${shared.name}`
    const client = scripted(store.client)
    const local = yield* RetryBudget.makeTokenBucket({
      capacity: plan.capacity,
      retryCost: plan.retryCost,
      timeoutCost: plan.timeoutCost,
      successRefund: plan.successRefund
    })
    const sender = new Sender(key)
    let refund = 0
    let pending: Batch<number> | undefined
    let lastKnown = plan.capacity
    // Tokens the in-process bucket granted while Redis could not answer: a
    // success gives them back to that bucket, never to the shared one.
    let drawnLocally = 0

    const flush = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      // A batch unanswered for as long as the bucket lives may have been
      // applied and forgotten by Redis: it is dropped rather than risk a
      // second refund.
      if (pending !== undefined && now - pending.at >= ttl) pending = undefined
      if (pending === undefined) {
        if (refund === 0 && !sender.hasTakenBack) return Effect.void
        pending = sender.batch(now, refund)
        refund = 0
      }
      const batch = pending
      const send = () =>
        client.erTokenRefund(
          key,
          sender.batchKey,
          sender.withdrawalsKey,
          plan.capacity,
          batch.content,
          ttl,
          batch.seq,
          ...batch.takenBack
        )
      return Effect.match(call(store, "flush", send, Available), {
        onFailure: () => {},
        onSuccess: (available) => {
          pending = undefined
          lastKnown = available
        }
      })
    })
    yield* flushing(flush, shared.flushEvery)

    const unsafeSucceeded = (spent: number) => {
      const fromLocal = Math.min(spent, drawnLocally)
      drawnLocally -= fromLocal
      const toShared = spent > 0 ? spent - fromLocal : plan.refundOf(0)
      refund = Math.min(plan.capacity, refund + toShared)
      if (shared.mode === "local") local.unsafeSucceeded?.(spent)
    }

    return {
      request: Effect.void,
      withdraw: (kind) => {
        const cost = plan.costOf(kind)
        const withdrawal = sender.nextWithdrawal()
        const send = () => client.erTokenWithdraw(key, sender.withdrawalsKey, plan.capacity, cost, ttl, withdrawal)
        return call(store, "withdraw", send, Granted).pipe(
          Effect.matchEffect({
            onFailure: () =>
              Effect.map(fallback(shared.mode, local, kind), (granted) => {
                sender.giveUpOn(withdrawal)
                if (shared.mode === "local" && Option.isSome(granted)) drawnLocally += granted.value
                return granted
              }),
            onSuccess: ([granted, available]) => {
              lastKnown = available
              return Effect.succeed(granted === 1 ? Option.some(cost) : Option.none())
            }
          })
        )
      },
      succeeded: (spent) => Effect.sync(() => unsafeSucceeded(spent)),
      unsafeSucceeded,
      snapshot: call(store, "snapshot", (redis) => redis.get(key), Schema.NullOr(Available)).pipe(
        Effect.match({
          onFailure: () => ({ available: lastKnown, capacity: plan.capacity }),
          onSuccess: (available) => {
            lastKnown = available ?? plan.capacity
            return { available: lastKnown, capacity: plan.capacity }
          }
        })
      )
    } satisfies RetryBudget.Service
  })
}

export interface RatioOptions extends RetryBudget.RatioOptions, SharedOptions {}

/** Requests made in one slot of a host's clock, and when the latest of them was. */
interface SlotCount {
  count: number
  latest: number
}

/**
 * A ratio budget whose window is held in Redis: request counts are added up
 * in the process and sent by the flush fiber; a withdrawal is one script call.
 */
export const makeRatio = (
  options: RatioOptions
): (store: Store) => Effect.Effect<RetryBudget.Service, never, Scope.Scope> => {
  const plan = Budget.ratioPlan(options, SHARED_KEYS)
  const shared = sharedOf(options)
  const ttl = Math.ceil(plan.windowMillis + plan.slotMillis)
  const args = [plan.slotMillis, Budget.SLOTS, plan.percent, plan.reserve, ttl] as const
  return (store) => Effect.gen(function*() {
    const key = `${store.prefix}ratio:${shared.name}`
    const client = scripted(store.client)
    const local = yield* RetryBudget.makeRatio({
      percent: plan.percent,
      window: Duration.millis(plan.windowMillis),
      minPerSecond: plan.minPerSecond
    })
    const sender = new Sender(key)
    // Requests not sent yet, counted per slot of this host's clock, each
    // slot with the time of its latest request.
    const counts = new Map<number, SlotCount>()
    let pending: Batch<ReadonlyArray<SlotCount>> | undefined
    let lastKnown: RetryBudget.Snapshot = { available: Math.floor(plan.reserve), capacity: Math.floor(plan.reserve) }

    const send = (operation: string, batch: number, ageAndCount: ReadonlyArray<number>, takenBack: ReadonlyArray<number>) =>
      call(
        store,
        operation,
        () =>
          client.erRatioFlush(
            key,
            sender.batchKey,
            sender.withdrawalsKey,
            ...args,
            batch,
            ageAndCount.length / 2,
            ...ageAndCount,
            ...takenBack
          ),
        RatioState
      )
    const flush = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      // While Redis does not answer, counts older than the window are dropped.
      for (const [slot, count] of counts) if (now - count.latest >= ttl) counts.delete(slot)
      if (pending === undefined) {
        if (counts.size === 0 && !sender.hasTakenBack) return Effect.void
        pending = sender.batch(now, [...counts.values()])
        counts.clear()
      }
      const batch = pending
      // Sent with their ages, which Redis reads against its own clock;
      // requests whose slot has left the window by now are left out.
      const ageAndCount = batch.content.filter((slot) => now - slot.latest < ttl)
        .flatMap((slot) => [Math.max(0, now - slot.latest), slot.count])
      return Effect.match(send("flush", batch.seq, ageAndCount, batch.takenBack), {
        onFailure: () => {},
        onSuccess: ([available, capacity]) => {
          pending = undefined
          lastKnown = { available, capacity }
        }
      })
    })
    yield* flushing(flush, shared.flushEvery)

    const unsafeRequest = (now: number) => {
      const slot = plan.slotAt(now)
      const count = counts.get(slot)
      if (count === undefined) counts.set(slot, { count: 1, latest: now })
      else {
        count.count++
        count.latest = Math.max(count.latest, now)
      }
      if (shared.mode === "local") local.unsafeRequest?.(now)
    }

    return {
      request: Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (now) =>
        Effect.sync(() => unsafeRequest(now))),
      unsafeRequest,
      withdraw: (kind) => {
        const withdrawal = sender.nextWithdrawal()
        const sendWithdrawal = () => client.erRatioWithdraw(key, sender.withdrawalsKey, ...args, withdrawal)
        return call(store, "withdraw", sendWithdrawal, RatioGranted).pipe(
          Effect.matchEffect({
            onFailure: () => {
              sender.giveUpOn(withdrawal)
              return fallback(shared.mode, local, kind)
            },
            onSuccess: ([granted, available, capacity]) => {
              lastKnown = { available, capacity }
              return Effect.succeed(granted === 1 ? Option.some(1) : Option.none())
            }
          })
        )
      },
      succeeded: () => Effect.void,
      snapshot: Effect.match(send("snapshot", 0, [], []), {
        onFailure: () => lastKnown,
        onSuccess: ([available, capacity]) => {
          lastKnown = { available, capacity }
          return lastKnown
        }
      })
    } satisfies RetryBudget.Service
  })
}
