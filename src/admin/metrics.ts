import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config/load.js';
import type { DeliveryObserver } from '../delivery/observer.js';
import { DELIVERY_STATUSES, RUN_STATUSES } from '../glossary.js';
import type { IngressHooks, ReceivedOutcome } from '../ingress/app.js';
import type { Store } from '../store/store.js';

const RECEIVED_OUTCOMES: readonly ReceivedOutcome[] = ['accepted', 'duplicate', 'rejected', 'unavailable'];
const ATTEMPT_OUTCOMES = ['delivered', 'failed'] as const;
/** Seconds; from a fast local consumer to one that needs most of its timeout. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** How often the event-loop delay (nodejs_eventloop_lag_*) is sampled. */
const EVENT_LOOP_SAMPLE_MS = 50;

/** Seconds from a run's submission to its callback: a quick inference to a long batch job. */
const RUN_DURATION_BUCKETS = [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

export interface MetricsDeps {
  config: Config;
  /** What the scrape reads: counts by status, quarantine and run counts, write transactions. */
  store: Pick<Store, 'stats' | 'quarantineCounts' | 'runCounts' | 'writeTransactions'>;
  /**
   * Write transactions begun by stores other than `store` in this process (the delivery
   * thread's own PostgreSQL pool), added to the store's count at scrape time.
   */
  otherWriteTransactions?: () => Promise<number>;
  /** Node process metrics (CPU, memory, event loop lag, GC); on by default. */
  processMetrics?: boolean;
}

export interface RelayMetrics {
  readonly registry: Registry;
  /** Subscribe the delivery engine: attempt outcomes, durations, breaker states. */
  readonly observer: DeliveryObserver;
  /** The ingress hook: one call per callback on a source path. */
  readonly received: NonNullable<IngressHooks['received']>;
  /** The ingress hook: an event was not queued for these destinations (their filters). */
  readonly filtered: NonNullable<IngressHooks['filtered']>;
  /** The ingress hook: a callback completed a tracked run. */
  readonly runCompleted: NonNullable<IngressHooks['runCompleted']>;
  /** The Prometheus text exposition; queue depths are read from the store at this moment. */
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * The relay's Prometheus metrics, on a registry of their own (several relays in one process,
 * as in tests, do not mix). Names and labels are the contract's:
 * - hookrelay_events_received_total{source,outcome}   outcome: accepted | duplicate | rejected | unavailable
 * - hookrelay_delivery_attempts_total{destination,outcome}   outcome: delivered | failed
 * - hookrelay_deliveries{destination,status}   gauge, from the store at scrape time
 * - hookrelay_circuit_open{destination}   1 while open or half-open
 * - hookrelay_delivery_duration_seconds{destination}   histogram of attempt durations
 * - hookrelay_runs{status}   gauge, from the store at scrape time   status: submitted | completed | overdue | lost
 * - hookrelay_run_duration_seconds   histogram, a tracked run's submission -> callback
 * - hookrelay_filtered_total{destination}   events not queued for a destination: its filter did not match
 * - hookrelay_fallbacks_total{from,to}   dead deliveries that created a delivery to their destination's fallback
 * - hookrelay_rate_limit_wait_seconds_total{destination}   time due deliveries waited for the destination's rateLimit
 * - hookrelay_quarantined{source}   gauge, from the store at scrape time
 * - hookrelay_storage_write_transactions_total   write transactions the store has begun, from the store at scrape time
 * Every known label combination is present from the start with 0, so rates and alerts work
 * before the first event.
 */
export function createMetrics({ config, store, otherWriteTransactions, processMetrics = true }: MetricsDeps): RelayMetrics {
  const registry = new Registry();
  const destinations = config.destinations.map((destination) => destination.name);

  const received = new Counter({
    name: 'hookrelay_events_received_total',
    help: 'Callbacks received on a source path, by how they ended (accepted, duplicate, rejected, unavailable: storage could not commit it).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'hookrelay_delivery_attempts_total',
    help: 'Delivery attempts made, by destination and outcome (delivered, failed).',
    labelNames: ['destination', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hookrelay_delivery_duration_seconds',
    help: 'Duration of delivery attempts, request start to response (or error), by destination.',
    labelNames: ['destination'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const circuitOpen = new Gauge({
    name: 'hookrelay_circuit_open',
    help: 'Whether the circuit breaker of a destination is open or half-open (1) or closed (0).',
    labelNames: ['destination'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'hookrelay_deliveries',
    help: 'Deliveries by destination and status (pending, in_flight, delivered, dead), read from storage at scrape time.',
    labelNames: ['destination', 'status'] as const,
    registers: [registry],
    async collect() {
      const stats = await store.stats(destinations);
      this.reset();
      for (const [destination, counts] of Object.entries(stats.destinations)) {
        for (const status of DELIVERY_STATUSES) this.set({ destination, status }, counts[status]);
      }
    },
  });

  new Gauge({
    name: 'hookrelay_runs',
    help: 'Tracked runs by status (submitted, completed, overdue, lost), read from storage at scrape time.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await store.runCounts();
      for (const status of RUN_STATUSES) this.set({ status }, counts[status]);
    },
  });
  const quarantining = config.sources.filter((source) => source.quarantine !== undefined).map((source) => source.name);
  new Gauge({
    name: 'hookrelay_quarantined',
    help: 'Rejected callbacks held in quarantine per source (sources with quarantine set), read from storage at scrape time.',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      const counts = await store.quarantineCounts();
      this.reset();
      for (const source of new Set([...quarantining, ...Object.keys(counts)])) this.set({ source }, counts[source] ?? 0);
    },
  });
  new Counter({
    name: 'hookrelay_storage_write_transactions_total',
    help: 'Write transactions the relay\'s store has begun (SQLite: BEGIN IMMEDIATE or one writing statement; PostgreSQL: a transaction or statement that writes), read from the store at scrape time.',
    registers: [registry],
    async collect() {
      const count = (await store.writeTransactions()) + (otherWriteTransactions ? await otherWriteTransactions() : 0);
      this.reset();
      this.inc(count);
    },
  });
  const runDuration = new Histogram({
    name: 'hookrelay_run_duration_seconds',
    help: 'Time from a tracked run\'s submission to its callback.',
    buckets: RUN_DURATION_BUCKETS,
    registers: [registry],
  });

  const filtered = new Counter({
    name: 'hookrelay_filtered_total',
    help: 'Events not queued for a destination because they did not match its filter.',
    labelNames: ['destination'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'hookrelay_fallbacks_total',
    help: 'Deliveries that died and created a delivery of their event to the destination\'s fallback, by destination (from) and fallback (to).',
    labelNames: ['from', 'to'] as const,
    registers: [registry],
  });

  const rateLimitWait = new Counter({
    name: 'hookrelay_rate_limit_wait_seconds_total',
    help: 'Seconds the next due delivery of a destination waited for its rateLimit (in this process).',
    labelNames: ['destination'] as const,
    registers: [registry],
  });

  for (const source of config.sources) {
    for (const outcome of RECEIVED_OUTCOMES) received.inc({ source: source.name, outcome }, 0);
  }
  for (const destination of destinations) {
    for (const outcome of ATTEMPT_OUTCOMES) attempts.inc({ destination, outcome }, 0);
    circuitOpen.set({ destination }, 0);
    duration.zero({ destination });
  }
  for (const destination of config.destinations) {
    if (destination.filter) filtered.inc({ destination: destination.name }, 0);
    if (destination.fallback !== undefined) fallbacks.inc({ from: destination.name, to: destination.fallback }, 0);
    if (destination.rateLimit) rateLimitWait.inc({ destination: destination.name }, 0);
  }
  // Event-loop delay sampled every 50 ms rather than prom-client's 10 ms: the sampling timer
  // alone was over half of an idle relay's CPU; a stall of 50 ms or more is still always seen.
  if (processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  return {
    registry,
    observer: {
      attempted(destination, outcome, durationSeconds) {
        attempts.inc({ destination, outcome });
        duration.observe({ destination }, durationSeconds);
      },
      breakerChanged(destination, state) {
        circuitOpen.set({ destination }, state === 'closed' ? 0 : 1);
      },
      fellBack(from, to) {
        fallbacks.inc({ from, to });
      },
      rateLimited(destination, waitedSeconds) {
        rateLimitWait.inc({ destination }, waitedSeconds);
      },
    },
    filtered(destinations) {
      for (const destination of destinations) filtered.inc({ destination });
    },
    received(source, outcome) {
      received.inc({ source, outcome });
    },
    runCompleted(durationMs) {
      runDuration.observe(durationMs / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
