import type { DestinationConfig } from '../config/load.js';
import type { ClaimedDelivery } from '../glossary.js';
import type { Logger } from '../log.js';
import type { DeliveryStore } from '../store/store.js';
import type { AttemptRecorder } from './attempt-recorder.js';
import { AttemptFailedError, BREAKER_OPEN_CODE, type DestinationBreaker } from './breakers.js';
import type { Clock } from './clock.js';
import { decideNext } from './decide.js';
import type { DeliveryObserver } from './observer.js';
import { classify, type SendResult, type Verdict } from './outcome.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import type { Sender } from './send.js';

/** Longest pause between claims of a lane while storage keeps failing. */
const CLAIM_BACKOFF_MAX_MS = 5_000;
/** Say that claims fail at most once per this interval. */
const CLAIM_ERROR_LOG_INTERVAL_MS = 10_000;
/**
 * Most deliveries claimed by one query. A lane holds up to `concurrency + CLAIM_BATCH`
 * claimed deliveries (running + queued), so a backlog drains with one claim per batch
 * instead of one per attempt.
 */
export const CLAIM_BATCH = 64;

/** The lease outlives the attempt timeout, so a slow attempt can never be claimed twice at once. */
export function leaseMsFor(destination: DestinationConfig): number {
  return destination.timeoutMs * 2 + 5_000;
}

export interface LaneDeps {
  destination: DestinationConfig;
  store: Pick<DeliveryStore, 'claimDue' | 'releaseClaims' | 'releaseLostClaims'>;
  /** The claimer's identity in the store (lease owner). */
  owner: string;
  sender: Sender;
  /** Builds the lane's breaker; `onHalfOpen` wakes the lane for its probe. */
  breaker(onHalfOpen: () => void): DestinationBreaker;
  recorder: AttemptRecorder;
  observer: DeliveryObserver;
  logger: Logger;
  clock: Clock;
  random: () => number;
  /** The dispatcher's poll interval: the first pause after a failed claim is twice this long. */
  pollIntervalMs: number;
}

interface QueuedDelivery {
  delivery: ClaimedDelivery;
  leaseExpiresAt: number;
}

/**
 * One destination's lane: claim -> queue -> attempt -> decide.
 *
 * - Claims take due deliveries in batches while the lane has room (`maxHeld`: running +
 *   queued; one for fifo; fewer under a rate limit, so queued ones start within their lease)
 *   and their bodies fit the destination's byte budget beside the ones held.
 * - A claim runs only when something may be due (`dueAt`, set by wake-ups and by the
 *   dispatcher's read-only due-time probe): an idle lane never takes the write lock.
 * - Attempts run through the breaker (open: queued deliveries go back; half-open: one probe
 *   and nothing queued behind it) and the rate limit; results go to the recorder.
 * - Storage failures: claims back off, and rows this process may hold without knowing
 *   (a claim whose answer was lost, a failed release) are released before the next claim.
 *
 * Claims of one lane never overlap: `pump()` while a claim loop runs asks it to go round
 * once more (`rerun`) instead of starting a second one.
 */
export class Lane {
  readonly name: string;
  readonly fifo: boolean;
  private readonly breaker: DestinationBreaker;
  private readonly limiter: RateLimiter | null;
  /** Most deliveries held (running + queued). */
  private readonly maxHeld: number;
  /** Attempts running at once: `concurrency`, or 1 for fifo. */
  private readonly slots: number;

  /** Attempts running now, by delivery id. */
  private readonly running = new Map<string, Promise<void>>();
  /** Claimed deliveries waiting for a free slot, oldest due first. */
  private queued: QueuedDelivery[] = [];
  /** Ids running or queued: a claim that returns one again (its lease expired while queued) skips it. */
  private readonly held = new Set<string>();
  /** Body bytes of the deliveries held. */
  private heldBytes = 0;

  /** Earliest time (unix ms) the store may hold a delivery this lane could claim; Infinity: none known. */
  private dueAt = Number.POSITIVE_INFINITY;
  /** Moves on at every wake-up and claim: a due time read before it may be stale (see learnDue). */
  private version = 0;

  /** A claim loop is running; `claimLoop` settles when the latest one has finished (stop() waits for it). */
  private claiming = false;
  private claimLoop: Promise<void> = Promise.resolve();
  /** pump() was called while the claim loop ran: it goes round once more. */
  private rerun = false;
  private stopping = false;

  /** A claim or release failed: rows may be in flight for this process that it does not hold; released before the next claim. */
  private claimsUncertain = false;
  /** After a failed claim: no claim before this time (unix ms). */
  private claimAfter = 0;
  private claimBackoffMs = 0;
  private claimErrorLoggedAt = Number.NEGATIVE_INFINITY;

  /** While the rate limit holds the queue back: the wake-up's cancel, and since when (unix ms). */
  private cancelLimitTimer: (() => void) | null = null;
  private limitedSince = 0;

  constructor(private readonly deps: LaneDeps) {
    const { destination } = deps;
    this.name = destination.name;
    this.fifo = destination.ordering === 'fifo';
    this.limiter = destination.rateLimit ? createRateLimiter(destination.rateLimit.perSecond) : null;
    this.slots = this.fifo ? 1 : destination.concurrency;
    this.maxHeld = this.fifo
      ? 1
      : destination.concurrency + (this.limiter ? Math.min(CLAIM_BATCH, this.limiter.startsWithin(destination.timeoutMs)) : CLAIM_BATCH);
    this.breaker = deps.breaker(() => this.wake());
  }

  /** Something may be due now (ingest, replay, fallback, half-open, an attempt ended): claim. */
  wake(): void {
    this.dueAt = Number.NEGATIVE_INFINITY;
    this.version++;
    this.pump();
  }

  /** For learnDue: the lane's version when the due-time probe started. */
  currentVersion(): number {
    return this.version;
  }

  /**
   * The probe's answer: the earliest due time of this lane's deliveries (undefined: none). Ignored
   * when the lane was woken or claimed since the probe started (the answer may predate that).
   */
  learnDue(at: number | undefined, versionAtProbe: number): void {
    if (this.version === versionAtProbe) this.dueAt = at ?? Number.POSITIVE_INFINITY;
  }

  /**
   * When this lane next wants to claim (unix ms); Infinity: not until woken or told by a probe.
   * Rows it may hold without knowing (claimsUncertain) are released as soon as the claim
   * backoff allows, due or not.
   */
  nextClaimAt(): number {
    return this.claimsUncertain ? this.claimAfter : Math.max(this.dueAt, this.claimAfter);
  }

  /** Starts what can start and claims when the lane has room and something is due. */
  pump(): void {
    if (this.stopping) return;
    this.startQueued();
    if (this.claiming) {
      this.rerun = true;
      return;
    }
    this.claiming = true;
    this.claimLoop = this.claim();
  }

  private async claim(): Promise<void> {
    const { destination, store, owner, clock } = this.deps;
    try {
      for (;;) {
        this.rerun = false;
        if (this.breaker.capacity() === 0) {
          await this.releaseQueued();
          break;
        }
        // Half-open: one probe at a time, nothing queued behind it.
        const room = this.breaker.capacity() === 1 ? (this.held.size === 0 ? 1 : 0) : this.maxHeld - this.held.size;
        // Claim when the queue runs low, in batches, not once per finished attempt.
        if (room <= 0 || this.stopping || (this.queued.length >= this.slots && !this.rerun)) break;
        const bytesLeft = destination.bodyBudgetBytes - this.heldBytes;
        if (bytesLeft <= 0 && this.held.size > 0) break;
        const limit = Math.min(room, CLAIM_BATCH);
        const now = clock.now();
        if (now < this.claimAfter) break;
        if (this.dueAt > now && !this.claimsUncertain) break;
        const leaseExpiresAt = now + leaseMsFor(destination);
        const version = ++this.version;
        if (this.claimsUncertain) await this.releaseLostClaims();
        const claimed = await store.claimDue({
          destination: destination.name,
          limit,
          now,
          leaseExpiresAt,
          owner,
          maxBodyBytes: Math.max(0, bytesLeft),
          // Holding nothing, a body larger than the whole budget is still taken (and sent alone).
          oversizedFirst: this.held.size === 0,
          ...(this.fifo ? { fifo: true } : {}),
        });
        this.claimBackoffMs = 0;
        if (this.stopping) {
          // stop() began while this claim was running: hand the rows back unsent.
          await store.releaseClaims(claimed.filter((delivery) => !this.held.has(delivery.id)).map((delivery) => delivery.id), clock.now());
          break;
        }
        for (const delivery of claimed) {
          if (this.held.has(delivery.id)) continue;
          this.hold(delivery);
          this.queued.push({ delivery, leaseExpiresAt });
        }
        this.startQueued();
        if (claimed.length < limit) {
          // Nothing more is due now, unless a wake-up came during the claim.
          if (this.version === version) this.dueAt = Number.POSITIVE_INFINITY;
          if (!this.rerun) break;
        }
      }
    } catch (error) {
      this.claimsUncertain = true;
      // Back off while storage fails (locked, full): an ingest queued behind our claims must
      // still get its answer within busyTimeoutMs. Say so every 10 s, not on every try.
      this.claimBackoffMs = Math.min(CLAIM_BACKOFF_MAX_MS, this.claimBackoffMs * 2 || this.deps.pollIntervalMs * 2);
      this.claimAfter = clock.now() + this.claimBackoffMs;
      if (clock.now() - this.claimErrorLoggedAt > CLAIM_ERROR_LOG_INTERVAL_MS) {
        this.claimErrorLoggedAt = clock.now();
        this.deps.logger.error({ err: error, destination: this.name }, 'could not claim deliveries');
      }
    } finally {
      this.claiming = false;
    }
  }

  /** Hands back this lane's rows in flight for this process that it neither holds nor is recording. */
  private async releaseLostClaims(): Promise<void> {
    const keep = [...this.held, ...this.deps.recorder.recording()];
    const count = await this.deps.store.releaseLostClaims(this.name, this.deps.owner, keep, this.deps.clock.now());
    this.claimsUncertain = false;
    if (count > 0) this.deps.logger.warn({ destination: this.name, count }, 'claims whose answer was lost are pending again');
  }

  private hold(delivery: ClaimedDelivery): void {
    this.held.add(delivery.id);
    this.heldBytes += delivery.body.length;
  }

  private unhold(delivery: ClaimedDelivery): void {
    if (this.held.delete(delivery.id)) this.heldBytes -= delivery.body.length;
  }

  /**
   * Starts queued deliveries while the lane has free slots, the breaker lets attempts through
   * and the rate limit has room; when it has none, the lane is woken when it has.
   */
  private startQueued(): void {
    const { destination, clock, store, logger, observer } = this.deps;
    if (this.cancelLimitTimer) return;
    while (this.queued.length > 0 && this.running.size < this.slots && this.breaker.capacity() > 0) {
      const now = clock.now();
      const { delivery, leaseExpiresAt } = this.queued[0]!;
      if (leaseExpiresAt - now > destination.timeoutMs && this.limiter) {
        const waitMs = this.limiter.tryStart(now);
        if (waitMs > 0) {
          this.waitForRateLimit(now, waitMs);
          return;
        }
        if (this.limitedSince > 0) {
          observer.rateLimited?.(this.name, (now - this.limitedSince) / 1000);
          this.limitedSince = 0;
        }
      }
      this.queued.shift();
      if (leaseExpiresAt - now <= destination.timeoutMs) {
        // Too little lease left to finish an attempt under it: hand it back rather than risk a second claimer.
        this.unhold(delivery);
        void store.releaseClaims([delivery.id], now).catch((error: unknown) => {
          this.claimsUncertain = true;
          logger.error({ err: error }, 'could not release a claim');
        });
        continue;
      }
      this.startAttempt(delivery, now);
    }
  }

  /** The queue's head waits for the rate limit: not an attempt, so no budget, no breaker. */
  private waitForRateLimit(now: number, waitMs: number): void {
    if (this.limitedSince === 0) this.limitedSince = now;
    this.cancelLimitTimer = this.deps.clock.setTimer(() => {
      this.cancelLimitTimer = null;
      this.pump();
    }, waitMs);
  }

  /** Hands queued (not yet started) deliveries back, e.g. when the breaker opens. */
  private async releaseQueued(): Promise<void> {
    if (this.queued.length === 0) return;
    const ids = this.queued.map(({ delivery }) => delivery.id);
    for (const { delivery } of this.queued) this.unhold(delivery);
    this.queued = [];
    await this.deps.store.releaseClaims(ids, this.deps.clock.now());
  }

  private startAttempt(delivery: ClaimedDelivery, startedAt: number): void {
    const task = this.attempt(delivery, delivery.attempts + 1, startedAt)
      .catch((error: unknown) => this.deps.logger.error({ err: error, deliveryId: delivery.id }, 'attempt crashed'))
      .finally(() => {
        this.running.delete(delivery.id);
        this.unhold(delivery);
        // A fifo lane's next head is claimable only once this result is committed (the recorder wakes it).
        if (this.fifo) this.pump();
        else this.wake();
      });
    this.running.set(delivery.id, task);
  }

  private async attempt(delivery: ClaimedDelivery, number: number, startedAt: number): Promise<void> {
    const { destination, sender, store, recorder, observer, logger, clock, random } = this.deps;
    let outcome: { result: SendResult; verdict: Verdict };
    try {
      outcome = await this.breaker.run(async () => {
        const result = await sender.send(delivery, number);
        return { result, verdict: classify(result) };
      });
    } catch (error) {
      if (error instanceof AttemptFailedError) {
        outcome = { result: error.result, verdict: error.verdict };
      } else if ((error as { code?: unknown })?.code === BREAKER_OPEN_CODE) {
        // Not sent, so not counted: the delivery waits for the breaker.
        await store.releaseClaims([delivery.id], clock.now()).catch((releaseError: unknown) => {
          this.claimsUncertain = true;
          throw releaseError;
        });
        return;
      } else {
        throw error;
      }
    }
    const { result, verdict } = outcome;
    const decision = decideNext(verdict, result, delivery.budgetUsed, destination.retry, clock.now(), random);
    recorder.record(this.name, {
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
      ...(decision.kind === 'dead' && destination.fallback !== undefined ? { fallback: destination.fallback } : {}),
    });
    observer.attempted?.(this.name, verdict.outcome, result.durationMs / 1000);
    if (verdict.outcome === 'failed') {
      const scope = { destination: this.name, deliveryId: delivery.id, eventId: delivery.eventId, attempt: number };
      const detail = result.kind === 'response' ? { status: result.status } : { errorCode: result.code };
      if (decision.kind === 'dead') logger.warn({ ...scope, ...detail }, 'delivery is dead: attempt budget spent');
      else if (decision.kind === 'retry') logger.info({ ...scope, ...detail, retryAt: new Date(decision.nextAttemptAt).toISOString() }, 'attempt failed');
    }
  }

  // ---- shutdown (driven by the dispatcher) ------------------------------------------------

  /** No more claims or starts; a claim already running finishes and hands back what it claimed. */
  stopClaiming(): void {
    this.stopping = true;
    this.cancelLimitTimer?.();
    this.cancelLimitTimer = null;
  }

  /** Settles when the claim loop running now (if any) has finished. */
  claimSettled(): Promise<void> {
    return this.claimLoop;
  }

  /** The attempts running now. */
  attemptsRunning(): Promise<void>[] {
    return [...this.running.values()];
  }

  /** Ids of attempts still running: they may have been sent. */
  unfinished(): string[] {
    return [...this.running.keys()];
  }

  /** Ids claimed and queued, never started. */
  notStarted(): string[] {
    return this.queued.map(({ delivery }) => delivery.id);
  }

  breakerState(): ReturnType<DestinationBreaker['state']> {
    return this.breaker.state();
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.deps.sender.close().catch(() => undefined);
  }
}
