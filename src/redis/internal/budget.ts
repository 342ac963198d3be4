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
import { scripted, WITHDRAWALS_KEPT } from "./scripts.js"
import { call, type Store, type StoreError } from "./store.js"

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

/**
 * What a withdrawal falls back to when Redis cannot answer. A retry granted
 * without the shared budget took nothing from it (`Some(0)`): the call's
 * success gives the shared budget back nothing for it, and the in-process
 * budget keeps what it gave.
 */
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
      return Effect.map(local.withdraw(kind), Option.as(0))
  }
}

/**
 * A withdrawal sent under its number. When no answer comes in time, or the
 * call is interrupted while it waits, the withdrawal is given up on (the next
 * batch takes it back, should Redis have run it) and the mode decides.
 */
const withdrawal = <A>(
  sender: Sender<A>,
  mode: Mode,
  local: RetryBudget.Service,
  kind: RetryBudget.RetryKind,
  send: (number: number) => Effect.Effect<Option.Option<number>, StoreError>
): Effect.Effect<Option.Option<number>> => {
  const number = sender.nextWithdrawal()
  const giveUp = Effect.sync(() => sender.giveUpOn(number))
  return Effect.onInterrupt(
    Effect.catchAll(send(number), () => Effect.zipRight(giveUp, fallback(mode, local, kind))),
    () => giveUp
  )
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

/**
 * What one budget of a process tells Redis beside its counts, so that nothing
 * it sends counts twice and nothing it gave up on counts at all: its batches
 * are numbered (a batch sent again is applied once), its withdrawals too (a
 * batch takes back the withdrawals whose answer did not come, which a Redis
 * that stalled may have run). The keys carry an id of the budget's own, from
 * the platform's random UUIDs: Effect's Random is seeded alike in every
 * process by tests, and by some programs.
 */
class Sender<A> {
  readonly batchKey: string
  readonly withdrawalsKey: string
  private batches = 0
  private withdrawals = 0
  /** Withdrawals given up on, to be taken back by the next batch: as many as Redis keeps a record of. */
  private gaveUpOn: Array<number> = []
  /** The batch sent and not answered yet, sent again as it was. */
  private pending: Batch<A> | undefined

  /**
   * `dropAfter`: how long a batch that Redis may have applied is sent again;
   * after that Redis may have forgotten its number, and it is dropped rather
   * than risk applying it twice.
   */
  constructor(key: string, private readonly empty: A, private readonly dropAfter: number | undefined) {
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

  /**
   * Sends the batch not answered yet, or a new one of what `take` gives (with
   * the withdrawals given up on so far); and once more when the first was
   * answered, so that what gathered meanwhile goes too (the flush when the
   * scope closes is the last one).
   */
  flush(now: number, take: () => A | undefined, send: (batch: Batch<A>) => Effect.Effect<void, StoreError>): Effect.Effect<void> {
    const pending = this.pending
    if (pending !== undefined && pending.mayBeApplied && this.dropAfter !== undefined && now - pending.at >= this.dropAfter) {
      // Taking a withdrawal back twice does nothing: those are kept.
      this.gaveUpOn = [...pending.takenBack, ...this.gaveUpOn].slice(-WITHDRAWALS_KEPT)
      this.pending = undefined
    }
    const sendOne = (): Effect.Effect<boolean> => {
      const batch = this.pending ?? this.newBatch(now, take)
      if (batch === undefined) return Effect.succeed(false)
      this.pending = batch
      return Effect.match(send(batch), {
        onFailure: (error) => {
          if (!error.unsent) batch.mayBeApplied = true
          return false
        },
        onSuccess: () => {
          this.pending = undefined
          return true
        }
      })
    }
    return Effect.flatMap(sendOne(), (answered) => answered ? Effect.asVoid(sendOne()) : Effect.void)
  }

  private newBatch(now: number, take: () => A | undefined): Batch<A> | undefined {
    const content = take()
    if (content === undefined && this.gaveUpOn.length === 0) return undefined
    const takenBack = this.gaveUpOn
    this.gaveUpOn = []
    return { seq: ++this.batches, at: now, content: content ?? this.empty, takenBack, mayBeApplied: false }
  }
}

/** A batch of counts and take-backs, numbered. */
interface Batch<A> {
  readonly seq: number
  readonly at: number
  readonly content: A
  readonly takenBack: ReadonlyArray<number>
  /** Whether a send may have reached Redis (an answer that did not come in time), rather than certainly not. */
  mayBeApplied: boolean
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
    const sender = new Sender(key, 0, ttl)
    let refund = 0
    let lastKnown = plan.capacity

    const takeRefund = (): number | undefined => {
      if (refund === 0) return undefined
      const taken = refund
      refund = 0
      return taken
    }
    const flush = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      sender.flush(now, takeRefund, (batch) => {
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
        return Effect.map(call(store, "flush", send, Available), (available) => {
          lastKnown = available
        })
      }))
    yield* flushing(flush, shared.flushEvery)

    const giveBack = (tokens: number, spent: number) => {
      refund = Math.min(plan.capacity, refund + tokens)
      if (shared.mode === "local") local.unsafeSucceeded?.(spent)
    }
    // At a first attempt (spent 0) a success gives back `successRefund`;
    // after retries, what they took from the shared bucket: nothing for
    // retries granted while Redis could not answer.
    const unsafeSucceeded = (spent: number) => giveBack(plan.refundOf(spent), spent)

    return {
      request: Effect.void,
      withdraw: (kind) => {
        const cost = plan.costOf(kind)
        return withdrawal(sender, shared.mode, local, kind, (number) =>
          Effect.map(
            call(store, "withdraw", () => client.erTokenWithdraw(key, sender.withdrawalsKey, plan.capacity, cost, ttl, number), Granted),
            ([granted, available]) => {
              lastKnown = available
              return granted === 1 ? Option.some(cost) : Option.none()
            }
          ))
      },
      succeeded: (spent) => Effect.sync(() => giveBack(spent, spent)),
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
    // The ratio needs no time limit on a batch sent again: by then its
    // counts have left the window, and are sent as nothing.
    const sender = new Sender<ReadonlyArray<SlotCount>>(key, [], undefined)
    // Requests not sent yet, counted per slot of this host's clock, each
    // slot with the time of its latest request.
    const counts = new Map<number, SlotCount>()
    let lastKnown: RetryBudget.Snapshot = { available: Math.floor(plan.reserve), capacity: Math.floor(plan.reserve) }

    const send = (operation: string, batch: number, ageAndCount: ReadonlyArray<number>, takenBack: ReadonlyArray<number>) =>
      Effect.map(
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
        ),
        ([available, capacity]) => lastKnown = { available, capacity }
      )
    const takeCounts = (): ReadonlyArray<SlotCount> | undefined => {
      if (counts.size === 0) return undefined
      const taken = [...counts.values()]
      counts.clear()
      return taken
    }
    const flush = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      // While Redis does not answer, counts older than the window are dropped.
      for (const [slot, count] of counts) if (now - count.latest >= ttl) counts.delete(slot)
      return sender.flush(now, takeCounts, (batch) => {
        // Sent with their ages, which Redis reads against its own clock;
        // requests whose slot has left the window by now are left out.
        const ageAndCount = batch.content.filter((slot) => now - slot.latest < ttl)
          .flatMap((slot) => [Math.max(0, now - slot.latest), slot.count])
        return Effect.asVoid(send("flush", batch.seq, ageAndCount, batch.takenBack))
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
      request: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => unsafeRequest(now))),
      unsafeRequest,
      withdraw: (kind) =>
        withdrawal(sender, shared.mode, local, kind, (number) =>
          Effect.map(
            call(store, "withdraw", () => client.erRatioWithdraw(key, sender.withdrawalsKey, ...args, number), RatioGranted),
            ([granted, available, capacity]) => {
              lastKnown = { available, capacity }
              return granted === 1 ? Option.some(1) : Option.none()
            }
          )),
      succeeded: () => Effect.void,
      snapshot: Effect.orElseSucceed(send("snapshot", 0, [], []), () => lastKnown)
    } satisfies RetryBudget.Service
  })
}
