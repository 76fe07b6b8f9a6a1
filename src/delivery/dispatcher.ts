import { hostname } from 'node:os';
import type { Config, DestinationConfig } from '../config/load.js';
import type { AttemptCompletion, ClaimedDelivery, FallbackDelivery } from '../glossary.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { AttemptFailedError, BREAKER_OPEN_CODE, createBreaker, type DestinationBreaker } from './breakers.js';
import { decideNext } from './decide.js';
import { createLogThrottle } from './log-throttle.js';
import type { DeliveryObserver } from './observer.js';
import { classify, type SendResult, type Verdict } from './outcome.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { createSender, type Sender } from './send.js';

/** Longest pause between claims of a lane while storage keeps failing. */
const CLAIM_BACKOFF_MAX_MS = 5_000;
/** Delay before attempt results that could not be written are written again. */
const COMPLETION_RETRY_MS = 200;
/** While attempt results cannot be written, say so once per this interval, not on every retry. */
const COMPLETION_ERROR_LOG_INTERVAL_MS = 5_000;
/** How often every destination looks for due retries and rows changed by other processes (CLI replay). */
const DEFAULT_POLL_INTERVAL_MS = 250;
/**
 * Most deliveries claimed by one query. A lane holds up to `concurrency + CLAIM_BATCH`
 * claimed deliveries (running + queued), so a backlog drains with one claim per batch
 * instead of one per attempt.
 */
const CLAIM_BATCH = 64;

export interface DispatcherDeps {
  config: Config;
  store: Store;
  logger: Logger;
  observer?: DeliveryObserver;
  pollIntervalMs?: number;
  /** Jitter source, for tests. */
  random?: () => number;
}

export interface Dispatcher {
  /** Recovers orphaned leases, then starts claiming. */
  start(): Promise<void>;
  /** New deliveries were committed for these destinations: claim them now (no polling delay). */
  wake(destinations?: readonly string[]): void;
  /** Stops claiming, lets in-flight attempts finish for up to `graceMs`, releases the rest. */
  stop(graceMs: number): Promise<void>;
  breakerStates(): Record<string, ReturnType<DestinationBreaker['state']>>;
}

/** The lease outlives the attempt timeout, so a slow attempt can never be claimed twice at once. */
export function leaseMsFor(destination: DestinationConfig): number {
  return destination.timeoutMs * 2 + 5_000;
}

interface QueuedDelivery {
  delivery: ClaimedDelivery;
  leaseExpiresAt: number;
}

interface Lane {
  destination: DestinationConfig;
  sender: Sender;
  breaker: DestinationBreaker;
  /** Attempts running now, by delivery id. */
  running: Map<string, Promise<void>>;
  /** Claimed deliveries waiting for a free slot, oldest due first. */
  queued: QueuedDelivery[];
  /** Most deliveries held (running + queued); fewer under a rate limit, so queued ones start within their lease; one for fifo. */
  maxHeld: number;
  /** `ordering: fifo`: claims take only the destination's head, one at a time. */
  fifo: boolean;
  /** Attempts running at once: `concurrency`, or 1 for fifo. */
  slots: number;
  /** `rateLimit.perSecond`, or null. */
  limiter: RateLimiter | null;
  /** While the rate limit holds the queue back: the wake-up, and since when (unix ms). */
  limitTimer: NodeJS.Timeout | null;
  limitedSince: number;
  /** Ids in `running` or `queued`: a claim that returns one of them again (its lease expired while queued) is skipped. */
  held: Set<string>;
  /** Body bytes of the deliveries in `held`; claims take only what fits in `bodyBudgetBytes` beside them. */
  heldBytes: number;
  claiming: boolean;
  /**
   * A claim or release failed: rows may be in flight for this process that it does not hold
   * (a claim committed but its answer was lost). They are released before the next claim.
   */
  claimsUncertain: boolean;
  claimErrorLoggedAt: number;
  /** After a failed claim: no claim before this time (unix ms), doubling up to CLAIM_BACKOFF_MAX_MS. */
  claimAfter: number;
  claimBackoffMs: number;
  /** Settles when the latest claim loop has finished (stop() waits for it). */
  claimDone: Promise<void>;
  again: boolean;
}

export function createDispatcher({
  config,
  store,
  logger,
  observer = {},
  pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
  random = Math.random,
}: DispatcherDeps): Dispatcher {
  const owner = `${hostname()}:${process.pid}:${Date.now().toString(36)}`;
  const log = logger.child({ component: 'dispatcher' });
  const lanes = new Map<string, Lane>();
  let stopping = false;
  /** Set once leftover claims are released: late results are then dropped (their deliveries are pending again). */
  let released = false;
  let poller: NodeJS.Timeout | null = null;
  /** Unsubscribes from the store's cross-process wake-ups (PostgreSQL LISTEN/NOTIFY). */
  let stopListening: (() => void) | null = null;

  // Completions of attempts that end close together share one commit.
  let completions: AttemptCompletion[] = [];
  /** Deliveries whose attempt ended but whose result is not committed yet: still ours, in flight. */
  const recording = new Set<string>();
  let flushing: Promise<void> = Promise.resolve();
  let flushScheduled = false;
  const logCompletionError = createLogThrottle(COMPLETION_ERROR_LOG_INTERVAL_MS);
  const flushCompletions = () => {
    flushScheduled = false;
    const batch = completions;
    completions = [];
    if (batch.length === 0) return;
    flushing = flushing.then(() =>
      store.completeAttempts(batch, owner).then((fallbacks) => {
        for (const completion of batch) recording.delete(completion.attempt.deliveryId);
        fellBack(fallbacks);
        // A fifo queue's next head is claimable only once its head's result is committed.
        for (const lane of lanes.values()) if (lane.fifo) void pump(lane);
      }, (error: unknown) => {
        if (!released) {
          // Storage busy or failing: keep the results and try again shortly (within the leases),
          // rather than let the leases expire and send these deliveries a second time.
          logCompletionError((failures) => log.warn({ err: error, count: batch.length, failures }, 'could not record attempts yet; retrying'));
          completions.unshift(...batch);
          if (!flushScheduled) {
            flushScheduled = true;
            setTimeout(flushCompletions, COMPLETION_RETRY_MS).unref();
          }
          return;
        }
        // Shutting down: the leases stay and the deliveries are attempted again after restart (at-least-once).
        log.error({ err: error, count: batch.length }, 'could not record attempts');
      }),
    );
  };
  /** Fallback deliveries were committed: count them and start them now. */
  const fellBack = (fallbacks: readonly FallbackDelivery[]) => {
    for (const fallback of fallbacks) {
      observer.fellBack?.(fallback.from, fallback.to);
      log.info({ destination: fallback.from, eventId: fallback.eventId, fallback: fallback.to, deliveryId: fallback.deliveryId }, 'the event falls back');
      const lane = lanes.get(fallback.to);
      if (lane) void pump(lane);
    }
  };
  const complete = (completion: AttemptCompletion) => {
    if (released) return;
    recording.add(completion.attempt.deliveryId);
    completions.push(completion);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushCompletions);
    }
  };

  for (const destination of config.destinations) {
    const limiter = destination.rateLimit ? createRateLimiter(destination.rateLimit.perSecond) : null;
    const fifo = destination.ordering === 'fifo';
    const lane: Lane = {
      destination,
      sender: createSender(destination),
      breaker: createBreaker(destination, logger, observer, () => void pump(lane)),
      running: new Map(),
      queued: [],
      maxHeld: fifo ? 1 : destination.concurrency + (limiter ? Math.min(CLAIM_BATCH, limiter.startsWithin(destination.timeoutMs)) : CLAIM_BATCH),
      fifo,
      slots: fifo ? 1 : destination.concurrency,
      limiter,
      limitTimer: null,
      limitedSince: 0,
      held: new Set(),
      heldBytes: 0,
      claiming: false,
      claimsUncertain: false,
      claimErrorLoggedAt: 0,
      claimAfter: 0,
      claimBackoffMs: 0,
      claimDone: Promise.resolve(),
      again: false,
    };
    lanes.set(destination.name, lane);
  }

  async function pump(lane: Lane): Promise<void> {
    if (stopping) return;
    startQueued(lane);
    if (lane.claiming) {
      lane.again = true;
      return;
    }
    lane.claiming = true;
    let finished!: () => void;
    lane.claimDone = new Promise((resolve) => (finished = resolve));
    try {
      for (;;) {
        lane.again = false;
        if (lane.breaker.capacity() === 0) {
          await releaseQueued(lane);
          break;
        }
        // Half-open: one probe at a time, nothing queued behind it.
        const room =
          lane.breaker.capacity() === 1
            ? lane.held.size === 0 ? 1 : 0
            : lane.maxHeld - lane.held.size;
        // Claim when the queue runs low, in batches, not once per finished attempt.
        if (room <= 0 || stopping || (lane.queued.length >= lane.slots && !lane.again)) break;
        const bytesLeft = lane.destination.bodyBudgetBytes - lane.heldBytes;
        if (bytesLeft <= 0 && lane.held.size > 0) break;
        const limit = Math.min(room, CLAIM_BATCH);
        const now = Date.now();
        const leaseExpiresAt = now + leaseMsFor(lane.destination);
        if (now < lane.claimAfter) break;
        if (lane.claimsUncertain) await releaseLostClaims(lane);
        const claimed = await store.claimDue({
          destination: lane.destination.name,
          limit,
          now,
          leaseExpiresAt,
          owner,
          maxBodyBytes: Math.max(0, bytesLeft),
          // Holding nothing, a body larger than the whole budget is still taken (and sent alone).
          oversizedFirst: lane.held.size === 0,
          ...(lane.fifo ? { fifo: true } : {}),
        });
        lane.claimBackoffMs = 0;
        if (stopping) {
          // stop() began while this claim was running: hand the rows back unsent.
          await store.releaseClaims(claimed.filter((delivery) => !lane.held.has(delivery.id)).map((delivery) => delivery.id), Date.now());
          break;
        }
        for (const delivery of claimed) {
          if (lane.held.has(delivery.id)) continue;
          hold(lane, delivery);
          lane.queued.push({ delivery, leaseExpiresAt });
        }
        startQueued(lane);
        if (claimed.length < limit && !lane.again) break;
      }
    } catch (error) {
      lane.claimsUncertain = true;
      // Back off while storage fails (locked, full): an ingest queued behind our claims must
      // still get its answer within busyTimeoutMs. Say so every 10 s, not on every try.
      lane.claimBackoffMs = Math.min(CLAIM_BACKOFF_MAX_MS, lane.claimBackoffMs * 2 || pollIntervalMs * 2);
      lane.claimAfter = Date.now() + lane.claimBackoffMs;
      if (Date.now() - lane.claimErrorLoggedAt > 10_000) {
        lane.claimErrorLoggedAt = Date.now();
        log.error({ err: error, destination: lane.destination.name }, 'could not claim deliveries');
      }
    } finally {
      lane.claiming = false;
      finished();
    }
  }

  /** Hands back this lane's rows in flight for this process that it neither holds nor is recording. */
  async function releaseLostClaims(lane: Lane): Promise<void> {
    const keep = [...lane.held, ...recording];
    const count = await store.releaseLostClaims(lane.destination.name, owner, keep, Date.now());
    lane.claimsUncertain = false;
    if (count > 0) log.warn({ destination: lane.destination.name, count }, 'claims whose answer was lost are pending again');
  }

  function hold(lane: Lane, delivery: ClaimedDelivery): void {
    lane.held.add(delivery.id);
    lane.heldBytes += delivery.body.length;
  }

  function unhold(lane: Lane, delivery: ClaimedDelivery): void {
    if (lane.held.delete(delivery.id)) lane.heldBytes -= delivery.body.length;
  }

  /**
   * Starts queued deliveries while the lane has free slots, the breaker lets attempts through
   * and the rate limit has room; when it has none, the lane is woken when it has.
   */
  function startQueued(lane: Lane): void {
    if (lane.limitTimer) return;
    while (lane.queued.length > 0 && lane.running.size < lane.slots && lane.breaker.capacity() > 0) {
      const now = Date.now();
      const { delivery, leaseExpiresAt } = lane.queued[0]!;
      if (leaseExpiresAt - now > lane.destination.timeoutMs && lane.limiter) {
        const waitMs = lane.limiter.tryStart(now);
        if (waitMs > 0) {
          waitForRateLimit(lane, now, waitMs);
          return;
        }
        if (lane.limitedSince > 0) {
          observer.rateLimited?.(lane.destination.name, (now - lane.limitedSince) / 1000);
          lane.limitedSince = 0;
        }
      }
      lane.queued.shift();
      if (leaseExpiresAt - now <= lane.destination.timeoutMs) {
        // Too little lease left to finish an attempt under it: hand it back rather than risk a second claimer.
        unhold(lane, delivery);
        void store.releaseClaims([delivery.id], now).catch((error: unknown) => {
          lane.claimsUncertain = true;
          log.error({ err: error }, 'could not release a claim');
        });
        continue;
      }
      startAttempt(lane, delivery, now);
    }
  }

  /** The queue's head waits for the rate limit: not an attempt, so no budget, no breaker. */
  function waitForRateLimit(lane: Lane, now: number, waitMs: number): void {
    if (lane.limitedSince === 0) lane.limitedSince = now;
    lane.limitTimer = setTimeout(() => {
      lane.limitTimer = null;
      void pump(lane);
    }, waitMs);
    lane.limitTimer.unref();
  }

  /** Hands queued (not yet started) deliveries back, e.g. when the breaker opens. */
  async function releaseQueued(lane: Lane): Promise<void> {
    if (lane.queued.length === 0) return;
    const ids = lane.queued.map(({ delivery }) => delivery.id);
    for (const { delivery } of lane.queued) unhold(lane, delivery);
    lane.queued = [];
    await store.releaseClaims(ids, Date.now());
  }

  function startAttempt(lane: Lane, delivery: ClaimedDelivery, startedAt: number): void {
    const number = delivery.attempts + 1;
    const task = attempt(lane, delivery, number, startedAt)
      .catch((error: unknown) => log.error({ err: error, deliveryId: delivery.id }, 'attempt crashed'))
      .finally(() => {
        lane.running.delete(delivery.id);
        unhold(lane, delivery);
        void pump(lane);
      });
    lane.running.set(delivery.id, task);
  }

  async function attempt(lane: Lane, delivery: ClaimedDelivery, number: number, startedAt: number): Promise<void> {
    let outcome: { result: SendResult; verdict: Verdict };
    try {
      outcome = await lane.breaker.run(async () => {
        const result = await lane.sender.send(delivery, number);
        return { result, verdict: classify(result) };
      });
    } catch (error) {
      if (error instanceof AttemptFailedError) {
        outcome = { result: error.result, verdict: error.verdict };
      } else if ((error as { code?: unknown })?.code === BREAKER_OPEN_CODE) {
        // Not sent, so not counted: the delivery waits for the breaker.
        await store.releaseClaims([delivery.id], Date.now()).catch((releaseError: unknown) => {
          lane.claimsUncertain = true;
          throw releaseError;
        });
        return;
      } else {
        throw error;
      }
    }
    const { result, verdict } = outcome;
    const now = Date.now();
    const decision = decideNext(verdict, result, delivery.budgetUsed, lane.destination.retry, now, random);
    complete({
      attempt: {
        deliveryId: delivery.id,
        number,
        startedAt,
        durationMs: result.durationMs,
        statusCode: result.kind === 'response' ? result.status : null,
        errorCode: result.kind === 'error' ? result.code : null,
        error: result.kind === 'error' ? result.message : verdict.outcome === 'failed' ? `HTTP ${result.status}` : null,
        responseSnippet: result.kind === 'response' ? result.snippet : null,
        outcome: verdict.outcome,
      },
      decision,
      countsAgainstBudget: true,
      ...(decision.kind === 'dead' && lane.destination.fallback !== undefined ? { fallback: lane.destination.fallback } : {}),
    });
    observer.attempted?.(lane.destination.name, verdict.outcome, result.durationMs / 1000);
    if (verdict.outcome === 'failed') {
      const scope = { destination: lane.destination.name, deliveryId: delivery.id, eventId: delivery.eventId, attempt: number };
      const detail = result.kind === 'response' ? { status: result.status } : { errorCode: result.code };
      if (decision.kind === 'dead') log.warn({ ...scope, ...detail }, 'delivery is dead: attempt budget spent');
      else if (decision.kind === 'retry') log.info({ ...scope, ...detail, retryAt: new Date(decision.nextAttemptAt).toISOString() }, 'attempt failed');
    }
  }

  const pumpAll = () => {
    for (const lane of lanes.values()) void pump(lane);
  };

  return {
    async start() {
      const recovered = await store.recoverOrphanedLeases(Date.now());
      if (recovered > 0) log.warn({ count: recovered }, 'deliveries in flight when the last process stopped will be attempted again');
      poller = setInterval(pumpAll, pollIntervalMs);
      poller.unref();
      // Deliveries committed by other processes (ingest, CLI replay) wake this one at once; polling stays the fallback.
      stopListening = store.onDeliveriesDue?.((destinations) => {
        for (const name of destinations) {
          const lane = lanes.get(name);
          if (lane) void pump(lane);
        }
      }) ?? null;
      pumpAll();
    },

    wake(destinations) {
      if (!destinations) return pumpAll();
      for (const name of destinations) {
        const lane = lanes.get(name);
        if (lane) void pump(lane);
      }
    },

    async stop(graceMs) {
      stopping = true;
      if (poller) clearInterval(poller);
      for (const lane of lanes.values()) if (lane.limitTimer) clearTimeout(lane.limitTimer);
      stopListening?.();
      const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      // A claim already running finishes first (it hands back what it claimed), so its rows are never left leased.
      await Promise.race([Promise.all([...lanes.values()].map((lane) => lane.claimDone)), deadline]);
      const running = () => [...lanes.values()].flatMap((lane) => [...lane.running.values()]);
      await Promise.race([Promise.allSettled(running()), deadline]);
      // From here on late results are dropped; their deliveries are released below.
      released = true;
      const unfinished = [...lanes.values()].flatMap((lane) => [...lane.running.keys()]);
      const notStarted = [...lanes.values()].flatMap((lane) => lane.queued.map(({ delivery }) => delivery.id));
      // Record what finished first, so releasing cannot undo a recorded outcome.
      flushCompletions();
      await flushing;
      if (unfinished.length > 0) {
        log.warn({ count: unfinished.length }, 'releasing attempts that did not finish in time; they will be sent again');
      }
      // Unfinished attempts were (possibly) sent: their next attempt carries the next number.
      await Promise.all([store.releaseClaims(unfinished, Date.now(), true), store.releaseClaims(notStarted, Date.now())]).catch((error: unknown) => {
        log.error({ err: error }, 'could not release claims; they return when their leases expire');
      });
      for (const lane of lanes.values()) {
        lane.breaker.shutdown();
        await lane.sender.close().catch(() => undefined);
      }
    },

    breakerStates() {
      return Object.fromEntries([...lanes.entries()].map(([name, lane]) => [name, lane.breaker.state()]));
    },
  };
}
