import { hostname } from 'node:os';
import type { Config, DestinationConfig } from '../config/load.js';
import type { FallbackDelivery } from '../glossary.js';
import type { Logger } from '../log.js';
import type { DeliveryStore } from '../store/store.js';
import { createAttemptRecorder } from './attempt-recorder.js';
import { createBreaker, type DestinationBreaker } from './breakers.js';
import { systemClock, type Clock } from './clock.js';
import { Lane } from './lane.js';
import { createLogThrottle } from './log-throttle.js';
import type { BreakerState, DeliveryObserver } from './observer.js';
import { createSender, type Sender } from './send.js';

export { leaseMsFor } from './lane.js';

/** How often the dispatcher asks the store (read-only) what is due: retries, rows changed by other processes (CLI replay). */
const DEFAULT_POLL_INTERVAL_MS = 250;
/** Say that the due-time probe fails at most once per this interval. */
const PROBE_ERROR_LOG_INTERVAL_MS = 10_000;

export interface DispatcherDeps {
  config: Config;
  store: DeliveryStore;
  logger: Logger;
  observer?: DeliveryObserver;
  pollIntervalMs?: number;
  /** Jitter source, for tests. */
  random?: () => number;
  /** Time and timers (default: the system clock). */
  clock?: Clock;
  /** Builds a destination's sender (default: undici, createSender). */
  createSender?: (destination: DestinationConfig) => Sender;
  /** Builds a destination's breaker (default: opossum, createBreaker). */
  createBreaker?: (destination: DestinationConfig, logger: Logger, observer: DeliveryObserver, onHalfOpen: () => void) => DestinationBreaker;
  /** Lease owner in the store (default: host, pid and start time). */
  owner?: string;
}

export interface Dispatcher {
  /** Recovers orphaned leases, then starts claiming. */
  start(): Promise<void>;
  /** New deliveries were committed for these destinations: claim them now (no polling delay). */
  wake(destinations?: readonly string[]): void;
  /** Stops claiming, lets in-flight attempts finish for up to `graceMs`, releases the rest. */
  stop(graceMs: number): Promise<void>;
  breakerStates(): Record<string, BreakerState>;
}

/**
 * The delivery engine's orchestrator: one Lane per destination (lane.ts), one attempt
 * recorder (attempt-recorder.ts), and what wakes the lanes:
 * - wake() from this process (ingest committed, replay, run announcements), the store's
 *   cross-process notifications (PostgreSQL), fallbacks created, a breaker half-open, an
 *   attempt ended;
 * - a read-only probe every `pollIntervalMs` (store.nextDueAt: per destination, the earliest
 *   due time), for retries coming due and rows changed by other processes; only lanes with
 *   something due claim (a write transaction), so an idle relay takes no write lock;
 * - a timer at the earliest due time the probe reported, so a retry due in 3 s is claimed at 3 s.
 */
export function createDispatcher({
  config,
  store,
  logger,
  observer = {},
  pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
  random = Math.random,
  clock = systemClock,
  createSender: senderFor = createSender,
  createBreaker: breakerFor = createBreaker,
  owner = `${hostname()}:${process.pid}:${Date.now().toString(36)}`,
}: DispatcherDeps): Dispatcher {
  const log = logger.child({ component: 'dispatcher' });
  const lanes = new Map<string, Lane>();
  let stopping = false;
  let cancelPoll: (() => void) | null = null;
  let cancelDueTimer: (() => void) | null = null;
  let dueTimerAt = Number.POSITIVE_INFINITY;
  let probing = false;
  const logProbeError = createLogThrottle(PROBE_ERROR_LOG_INTERVAL_MS, () => clock.now());
  /** Unsubscribes from the store's cross-process wake-ups (PostgreSQL LISTEN/NOTIFY). */
  let stopListening: (() => void) | null = null;

  const wakeLanes = (names: Iterable<string>) => {
    for (const name of names) lanes.get(name)?.wake();
  };

  /** Fallback deliveries were committed: count them and start them now. */
  const fellBack = (fallbacks: readonly FallbackDelivery[]) => {
    for (const fallback of fallbacks) {
      observer.fellBack?.(fallback.from, fallback.to);
      log.info({ destination: fallback.from, eventId: fallback.eventId, fallback: fallback.to, deliveryId: fallback.deliveryId }, 'the event falls back');
      lanes.get(fallback.to)?.wake();
    }
  };

  const recorder = createAttemptRecorder({
    store,
    owner,
    logger: log,
    clock,
    recorded(fallbacks, destinations) {
      fellBack(fallbacks);
      // A fifo lane's next head is claimable only once its head's result is committed.
      for (const name of destinations) {
        const lane = lanes.get(name);
        if (lane?.fifo) lane.wake();
      }
    },
  });

  for (const destination of config.destinations) {
    lanes.set(
      destination.name,
      new Lane({
        destination,
        store,
        owner,
        sender: senderFor(destination),
        breaker: (onHalfOpen) => breakerFor(destination, logger, observer, onHalfOpen),
        recorder,
        observer,
        logger: log,
        clock,
        random,
        pollIntervalMs,
      }),
    );
  }
  const dueQueries = [...lanes.values()].map((lane) => (lane.fifo ? { destination: lane.name, fifo: true } : { destination: lane.name }));

  /** Pumps the lanes that want to claim now, and sets the timer for the next one that will. */
  const pumpDue = () => {
    if (stopping) return;
    const now = clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const lane of lanes.values()) {
      const at = lane.nextClaimAt();
      if (at <= now) lane.pump();
      else next = Math.min(next, at);
    }
    armDueTimer(next);
  };

  const armDueTimer = (at: number) => {
    if (at === dueTimerAt) return;
    cancelDueTimer?.();
    cancelDueTimer = null;
    dueTimerAt = at;
    if (at === Number.POSITIVE_INFINITY) return;
    cancelDueTimer = clock.setTimer(() => {
      cancelDueTimer = null;
      dueTimerAt = Number.POSITIVE_INFINITY;
      pumpDue();
    }, Math.max(0, at - clock.now()));
  };

  /** Read-only: asks the store what is due, per destination, and pumps the lanes that have something. */
  const probe = async () => {
    if (probing || stopping) return;
    probing = true;
    const versions = new Map([...lanes.values()].map((lane) => [lane, lane.currentVersion()]));
    try {
      const due = await store.nextDueAt(dueQueries);
      for (const [lane, version] of versions) lane.learnDue(due[lane.name], version);
      if (log.isLevelEnabled('debug')) log.debug({ waiting: Object.keys(due).length }, 'due times read');
    } catch (error) {
      logProbeError((failures) => log.warn({ err: error, failures }, 'could not read due times'));
    } finally {
      probing = false;
    }
    pumpDue();
  };

  const schedulePoll = () => {
    cancelPoll = clock.setTimer(() => {
      void probe().finally(() => {
        if (!stopping) schedulePoll();
      });
    }, pollIntervalMs);
  };

  return {
    async start() {
      const recovered = await store.recoverOrphanedLeases(clock.now());
      if (recovered > 0) log.warn({ count: recovered }, 'deliveries in flight when the last process stopped will be attempted again');
      // Deliveries committed by other processes (ingest, CLI replay) wake this one at once; the probe stays the fallback.
      stopListening = store.onDeliveriesDue?.((destinations) => wakeLanes(destinations)) ?? null;
      await probe();
      schedulePoll();
    },

    wake(destinations) {
      wakeLanes(destinations ?? lanes.keys());
    },

    async stop(graceMs) {
      stopping = true;
      cancelPoll?.();
      cancelDueTimer?.();
      for (const lane of lanes.values()) lane.stopClaiming();
      stopListening?.();
      const deadline = new Promise((resolve) => clock.setTimer(() => resolve(undefined), graceMs));
      // A claim already running finishes first (it hands back what it claimed), so its rows are never left leased.
      await Promise.race([Promise.all([...lanes.values()].map((lane) => lane.claimSettled())), deadline]);
      await Promise.race([Promise.allSettled([...lanes.values()].flatMap((lane) => lane.attemptsRunning())), deadline]);
      // From here on late results are dropped; their deliveries are released below.
      recorder.release();
      const unfinished = [...lanes.values()].flatMap((lane) => lane.unfinished());
      const notStarted = [...lanes.values()].flatMap((lane) => lane.notStarted());
      // Record what finished first, so releasing cannot undo a recorded outcome.
      await recorder.drain();
      if (unfinished.length > 0) {
        log.warn({ count: unfinished.length }, 'releasing attempts that did not finish in time; they will be sent again');
      }
      // Unfinished attempts were (possibly) sent: their next attempt carries the next number.
      await Promise.all([store.releaseClaims(unfinished, clock.now(), true), store.releaseClaims(notStarted, clock.now())]).catch((error: unknown) => {
        log.error({ err: error }, 'could not release claims; they return when their leases expire');
      });
      for (const lane of lanes.values()) await lane.close();
    },

    breakerStates() {
      return Object.fromEntries([...lanes.values()].map((lane) => [lane.name, lane.breakerState()]));
    },
  };
}
