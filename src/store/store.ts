import type { MessagePort } from 'node:worker_threads';
import type {
  Attempt,
  AttemptCompletion,
  ClaimedDelivery,
  Delivery,
  DeliveryStatus,
  FallbackDelivery,
  IngestResult,
  NewEvent,
  NewRun,
  Run,
  RunStatus,
  StoredEvent,
} from '../glossary.js';

/**
 * The storage seam, in three parts by who uses them: the delivery engine (ingress and the
 * dispatcher: `DeliveryStore`), operator tools (CLI, admin API, dashboard, retention:
 * `OperatorStore`, the quarantine's `QuarantineStore` among them) and run tracking (`RunStore`).
 * An adapter (SQLite embedded, PostgreSQL for several processes) implements all three as
 * `Store` and passes `test/store/conformance.ts`.
 * Every method is async so adapters that talk to a server fit the same shape.
 *
 * Errors: a write that cannot be committed (disk full, read-only, locked beyond the busy
 * timeout) rejects with `HookrelayError` code `HOOKRELAY_STORAGE_UNAVAILABLE`.
 */
export interface Store extends DeliveryStore, OperatorStore, RunStore {
  close(): Promise<void>;
}

/** What the delivery engine needs: ingest, claims, completions, releases, recovery, wake-ups. */
export interface DeliveryStore {
  // ---- ingress -------------------------------------------------------------------------
  /**
   * Stores the event and one pending delivery per destination in ONE transaction, unless an
   * event with the same (source, dedupe key) exists: then nothing is written and the first
   * event's id is returned with `duplicate: true`. Resolves only after the commit is durable.
   * Concurrent calls may share one commit (group commit).
   */
  ingest(event: NewEvent): Promise<IngestResult>;
  /** True when a write transaction can be committed right now. */
  isWritable(): Promise<boolean>;

  // ---- delivery ------------------------------------------------------------------------
  /**
   * Claims up to `limit` due pending deliveries of one destination (oldest due first),
   * moving them to `in_flight` with a lease until `leaseExpiresAt`. Also re-claims
   * in-flight rows whose lease has expired (a process died mid-attempt). Rows are taken in
   * due order while the sum of their body sizes stays within `maxBodyBytes`: the first row
   * that would exceed it ends the claim (it is not skipped), except that with
   * `oversizedFirst` the first due row is taken whatever its size. With `fifo`, at most
   * the destination's head (see ClaimRequest.fifo).
   */
  claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /**
   * Records attempts and applies their decisions (delivered / retry at / dead) in one
   * transaction. A delivery whose lease was lost (no longer in flight for `owner`) keeps its
   * state; its attempt is still logged. A completion that kills its delivery and names a
   * `fallback` creates the fallback delivery in that same transaction (never zero, never
   * two); resolves with the fallback deliveries created.
   */
  completeAttempts(completions: readonly AttemptCompletion[], owner: string): Promise<FallbackDelivery[]>;
  /**
   * Puts claimed deliveries back to pending without counting an attempt against the budget
   * (shutdown, open breaker). `attempted`: they may have been sent (an attempt cut short at
   * shutdown), so their attempt count (the next `hookrelay-attempt`) moves on by one.
   */
  releaseClaims(deliveryIds: readonly string[], nextAttemptAt: number, attempted?: boolean): Promise<void>;
  /**
   * Returns to pending (due at `now`) the deliveries of `destination` in flight for `owner`
   * other than `keep` (the ones that owner is still sending or recording). They are claims
   * whose answer never reached the claimer — its connection broke after the commit — and
   * releases that failed; none of them was sent, so the attempt count stays. Without this
   * they would wait for their lease to expire. Resolves with how many were released.
   */
  releaseLostClaims(destination: string, owner: string, keep: readonly string[], now: number): Promise<number>;
  /**
   * At start-up: returns to pending the in-flight deliveries whose claimer is known to be
   * gone. SQLite (one process per database, under a lock): all of them. Several-process
   * adapters: those whose lease has expired. Such a delivery may have been sent before its
   * claimer died, so its attempt count moves on by one (as it does when `claimDue` takes
   * over an expired lease): `hookrelay-attempt` never repeats a number.
   */
  recoverOrphanedLeases(now: number): Promise<number>;
  /**
   * Read-only (the dispatcher asks on every poll; it never takes the write lock): per
   * destination, the earliest time a claim of it could take a delivery — the due time of its
   * pending deliveries or the lease expiry of its in-flight ones; for a `fifo` destination,
   * its head's (see ClaimRequest.fifo). Destinations with nothing pending or in flight are absent.
   */
  nextDueAt(destinations: readonly DueQuery[]): Promise<Record<string, number>>;
  /**
   * Write transactions this store has begun since it was opened (SQLite: every BEGIN
   * IMMEDIATE or single writing statement; PostgreSQL: every transaction or statement that
   * writes). The metric hookrelay_storage_write_transactions_total.
   */
  writeTransactions(): Promise<number>;
  /**
   * Optional, for adapters shared by several processes (PostgreSQL: LISTEN/NOTIFY): calls
   * `listener` with destination names whenever ANY process commits deliveries that are due
   * now (ingest, replay, redeliver), after the commit. Best effort — a notification may be
   * missed while the connection is re-opened — so polling stays the fallback. Returns the
   * function that unsubscribes.
   */
  onDeliveriesDue?(listener: (destinations: string[]) => void): () => void;
  /**
   * Optional, for an adapter whose connection lives in a thread of its own (SQLite under
   * `serve`): a MessagePort on which another thread of this process can make store calls to
   * that same connection (see sqlite/worker-store.ts `storeOverPort`), so the process keeps one
   * writer. Closing the port ends that client; only the opener's close() closes the store.
   */
  connectThread?(): Promise<MessagePort>;
}

/** What operator tools need: reads, replay, redeliver, retry, the quarantine, pruning, counts. */
export interface OperatorStore extends QuarantineStore {
  stats(destinations: readonly string[]): Promise<StoreStats>;
  listDeliveries(filter: DeliveryFilter): Promise<DeliveryPage>;
  getDelivery(id: string): Promise<Delivery | null>;
  getEvent(id: string): Promise<StoredEvent | null>;
  findEvents(filter: EventFilter): Promise<EventSummary[]>;
  listDeliveriesOfEvent(eventId: string): Promise<Delivery[]>;
  listAttempts(deliveryId: string): Promise<Attempt[]>;
  /** Moves matching dead deliveries back to pending with a fresh budget. `dryRun` only counts. */
  replayDead(selector: ReplaySelector, now: number, dryRun: boolean): Promise<{ matched: number; replayed: number }>;
  /**
   * Sends an event again: existing deliveries to the named destinations become pending with a
   * fresh budget (their attempt count and id stay); missing ones are created.
   * Returns the affected deliveries' ids (in-flight ones are left alone), or null when no
   * event has that id.
   */
  redeliver(eventId: string, destinations: readonly string[], now: number): Promise<string[] | null>;
  /**
   * Pending deliveries of these destinations that wait for a later retry become due at `now`
   * (attempt count and budget unchanged). Returns how many.
   */
  retryNow(destinations: readonly string[], now: number): Promise<number>;

  /** Deletes up to `limit` events whose deliveries are all delivered and that were received before `before`. */
  pruneDelivered(before: number, limit: number): Promise<number>;
  /** Delivery/attempt counts for the last hour per destination (dashboard chart). */
  attemptHistogram(since: number, bucketMs: number): Promise<AttemptBucket[]>;
}

/** Rejected callbacks kept for a second look (sources with `quarantine`): ingress keeps them, operator tools read and release them. */
export interface QuarantineStore {
  /**
   * Keeps a rejected callback, then bounds its source's quarantine: entries received before
   * `now - limits.maxAgeMs` go, then the oldest while the source holds more than `limits.maxBytes`.
   */
  quarantine(entry: NewQuarantined, limits: QuarantineLimits, now: number): Promise<void>;
  /** Quarantined callbacks newest first (without headers and body). */
  listQuarantined(filter: { source?: string }): Promise<QuarantinedSummary[]>;
  getQuarantined(id: string): Promise<Quarantined | null>;
  removeQuarantined(ids: readonly string[]): Promise<number>;
  /** Deletes a source's entries received before `before` (the retention sweep's share of the age bound). */
  pruneQuarantined(source: string, before: number): Promise<number>;
  /** Entries held per source (sources with none are absent). */
  quarantineCounts(): Promise<Record<string, number>>;
}

/** Run tracking (config `runs`): records, the overdue sweep, status checks, and their reads. */
export interface RunStore {
  /**
   * Records a run as `submitted`, due to fall overdue at `request.overdueAt`; a run id already
   * known is left as it is (`created: false`). When `request.callbackSource` already holds an
   * event whose dedupe key is the run id (the callback beat the record), the run is completed
   * with it at once.
   */
  recordRun(run: NewRun, request: RecordRunRequest): Promise<{ run: Run; created: boolean }>;
  /**
   * One batch of submitted runs whose overdue time has come, in one transaction: a run whose
   * callback is stored after all (same check as recordRun) is completed; the others become
   * `overdue`, due for a status check at `nextCheckAt` (null: never), and each commits its
   * `run.overdue` announcement (once per run: the announcement's dedupe key) with one pending
   * delivery per `announceTo`. Several processes sweep at once without overlap. Resolves with
   * the runs that became overdue.
   */
  markOverdueRuns(request: OverdueSweep): Promise<Run[]>;
  /** Overdue runs due for a status check (oldest due first), each leased until `leaseExpiresAt`. */
  claimRunChecks(request: { now: number; limit: number; leaseExpiresAt: number }): Promise<Run[]>;
  /** Overdue runs -> `lost`, each with its `run.lost` announcement, in one transaction. Runs no longer overdue are left alone. */
  markRunsLost(runIds: readonly string[], now: number, announceTo: readonly string[]): Promise<Run[]>;
  /** The next status check of these overdue runs happens at `at`. */
  scheduleRunChecks(runIds: readonly string[], at: number): Promise<void>;
  /** Runs newest first (by submission). */
  listRuns(filter: RunFilter): Promise<RunPage>;
  getRun(runId: string): Promise<Run | null>;
  runCounts(): Promise<Record<RunStatus, number>>;
}

export interface RecordRunRequest {
  overdueAt: number;
  callbackSource: string;
}

export interface OverdueSweep {
  now: number;
  limit: number;
  /** `runs.source`: where a run's callback would be stored. */
  callbackSource: string;
  /** Destinations that list the source `runs`. */
  announceTo: readonly string[];
  nextCheckAt: number | null;
}

export interface RunFilter {
  status?: RunStatus;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface RunPage {
  runs: Run[];
  nextCursor: string | null;
}

export interface ClaimRequest {
  destination: string;
  limit: number;
  now: number;
  leaseExpiresAt: number;
  /** Most body bytes the claimed deliveries may hold together (the claimer's remaining budget); omitted: no byte limit. */
  maxBodyBytes?: number;
  /**
   * Take the first due row even when its body alone exceeds `maxBodyBytes`: the claimer
   * holds no body, so a body larger than the whole budget is still delivered, alone.
   */
  oversizedFirst?: boolean;
  /** Identifies the claiming process (diagnostics, multi-process adapters). */
  owner: string;
  /**
   * `ordering: fifo`: only the destination's head — its oldest pending or in-flight delivery
   * by queue position (created, or last replayed) — and only when it is due (or its lease
   * has expired). Nothing while the head is in flight or waiting for a retry. Claims of one
   * destination are serialised across processes. The byte budget does not apply (one row).
   */
  fifo?: boolean;
}

export interface DueQuery {
  destination: string;
  /** `ordering: fifo`: only the head counts. */
  fifo?: boolean;
}

export interface StoreStats {
  events: number;
  deliveries: Record<DeliveryStatus, number>;
  destinations: Record<string, Record<DeliveryStatus, number>>;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  destination?: string;
  source?: string;
  /** Only deliveries that changed state at or after this unix ms (dead letters: died at or after). */
  since?: number;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  nextCursor: string | null;
}

export interface EventFilter {
  /** Matches the dedupe key exactly or the event id (with `prefix`: either starts with it). */
  query?: string;
  prefix?: boolean;
  source?: string;
  limit: number;
  /** Only events with a smaller id (ids sort by arrival): pass the last id of a page for the next, older page. */
  cursor?: string;
}

export interface QuarantineLimits {
  maxBytes: number;
  maxAgeMs: number;
}

export interface NewQuarantined {
  source: string;
  /** The rejection's error code, e.g. HOOKRELAY_SIGNATURE_INVALID. */
  reason: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
  receivedAt: number;
}

export interface QuarantinedSummary {
  id: string;
  source: string;
  reason: string;
  receivedAt: number;
  /** Bytes held: the body and the headers' JSON. */
  size: number;
}

export interface Quarantined extends QuarantinedSummary {
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface EventSummary {
  id: string;
  source: string;
  dedupeKey: string;
  contentType: string;
  size: number;
  receivedAt: number;
}

export type ReplaySelector =
  | { ids: readonly string[]; since?: number }
  | { destination: string; since?: number }
  | { all: true; since?: number };

export interface AttemptBucket {
  destination: string;
  /** Bucket start, unix ms. */
  at: number;
  delivered: number;
  failed: number;
}

export function emptyRunCounts(): Record<RunStatus, number> {
  return { submitted: 0, completed: 0, overdue: 0, lost: 0 };
}

export function emptyStatusCounts(): Record<DeliveryStatus, number> {
  return { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
}
