import DatabaseConstructor, { type Database, type Statement } from 'better-sqlite3';
import { createBatcher, type Batcher } from '../../batcher.js';
import { HookrelayError } from '../../errors.js';
import type { AttemptCompletion, ClaimedDelivery, FallbackDelivery, IngestResult, NewEvent, NewRun, Run } from '../../glossary.js';
import { newId } from '../../ids.js';
import type { ClaimRequest, DueQuery, OperatorStore, RecordRunRequest, RunStore, Store } from '../store.js';
import { toClaimedDelivery, type ClaimRow } from '../rows.js';
import { watchDatabaseFiles, type DatabaseFilesCheck, type DatabaseLocation } from './database-files.js';
import { migrate } from './migrate.js';
import type { ProcessLock } from './process-lock.js';
import type { GuardedWrite } from './guarded-write.js';
import { createOperatorQueries } from './operator-queries.js';
import { createQuarantineQueries } from './quarantine-queries.js';
import { createRunQueries } from './run-queries.js';

/** How long claims, attempt results and releases wait for a lock (the dispatcher retries them). */
const BOOKKEEPING_BUSY_TIMEOUT_MS = 100;

const STORAGE_ERROR_CODES = new Set([
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL', 'SQLITE_NOMEM', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_PERM',
]);

/** Maps SQLite's I/O and locking failures to the one code ingress turns into 503. */
export function toStorageError(error: unknown, what: string): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && [...STORAGE_ERROR_CODES].some((prefix) => code.startsWith(prefix))) {
    return new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage cannot ${what}: ${code}`, { cause: error });
  }
  return error;
}

/**
 * Opens the store on the calling thread, on the database at `location` (its folder exists:
 * see locateDatabase) or in memory. A database file is opened at its real path, and its files
 * are checked around every write (see database-files.ts), the serve lock's file among them when
 * `lockFile` is given. The store releases `lock`, if any, when it closes.
 */
export function openSqliteHere(
  location: DatabaseLocation | ':memory:',
  busyTimeoutMs: number,
  lock: ProcessLock | null,
  lockFile: ProcessLock['file'] | null = lock?.file ?? null,
): Store {
  if (location === ':memory:') return new SqliteStore(connect(location, busyTimeoutMs), lock, busyTimeoutMs, null);
  const db = connect(location.real, busyTimeoutMs);
  let files: DatabaseFilesCheck;
  try {
    files = watchDatabaseFiles(location, lockFile, () => emptyWal(db));
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteStore(db, lock, busyTimeoutMs, files);
}

function connect(path: string, busyTimeoutMs: number): Database {
  let db: Database;
  try {
    db = new DatabaseConstructor(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = OFF');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -16000');
    migrate(db);
  } catch (error) {
    throw toStorageError(error, `open ${path}`);
  }
  return db;
}

/** The operator, quarantine and run methods (but recordRun) are the query modules' own, assigned in the constructor. */
interface SqliteStore extends OperatorStore, Omit<RunStore, 'recordRun'> {}

class SqliteStore implements Store {
  private readonly groupCommit: Batcher<NewEvent, IngestResult>;
  private readonly runCommit: Batcher<{ run: NewRun; request: RecordRunRequest }, { run: Run; created: boolean }>;
  private readonly statements: ReturnType<typeof prepareDeliveryStatements>;
  private closed = false;
  /** Write transactions begun (hookrelay_storage_write_transactions_total). */
  private writes = 0;
  /** The last due-time answer, valid while no connection has committed since (see nextDueAt). */
  private dueAnswer: { key: string; due: Record<string, number> } | null = null;

  constructor(
    private readonly db: Database,
    private readonly lock: ProcessLock | null,
    busyTimeoutMs: number,
    private readonly files: DatabaseFilesCheck | null,
  ) {
    this.statements = prepareDeliveryStatements(db, busyTimeoutMs);
    const write: GuardedWrite = (what, run) => this.write(what, run);
    const runs = createRunQueries(db, write);
    Object.assign(this, createOperatorQueries(db, write), createQuarantineQueries(db, write), runs.store);
    this.runCommit = createBatcher({ flush: (batch) => this.write('record the run', () => runs.recordRuns(batch)), maxBatch: 512, maxConcurrent: 1 });
    const insertEvent = db.prepare(
      `INSERT INTO events (id, source, dedupe_key, content_type, content_encoding, body, received_at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (dedupe_key, source) DO NOTHING`,
    );
    const findEvent = db.prepare('SELECT id FROM events WHERE dedupe_key = ? AND source = ?').pluck();
    const insertDelivery = db.prepare(
      `INSERT INTO deliveries (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
    );
    const ingestBatch = db.transaction((events: NewEvent[]): IngestResult[] => {
      const now = Date.now();
      return events.map((event) => {
        const id = newId('evt');
        const inserted = insertEvent.run(id, event.source, event.dedupeKey, event.contentType, event.contentEncoding ?? null, event.body, now, event.requestId ?? null);
        if (inserted.changes === 0) {
          return { id: findEvent.get(event.dedupeKey, event.source) as string, duplicate: true };
        }
        for (const destination of event.destinations) {
          insertDelivery.run(newId('dlv'), id, destination, event.source, now, now, now);
        }
        const durationMs = event.runId === undefined ? null : runs.completeRun(event.runId, id, now);
        return durationMs === null ? { id, duplicate: false } : { id, duplicate: false, completedRun: { runId: event.runId!, durationMs } };
      });
    });
    // Ingests of one turn share one transaction: one fsync acknowledges many callbacks.
    const commitIngests = (batch: NewEvent[]): IngestResult[] => {
      this.files?.assertInPlace('commit the event');
      let results: IngestResult[];
      try {
        this.writes++;
        results = ingestBatch.immediate(batch);
      } catch (error) {
        throw toStorageError(error, 'commit the event');
      }
      // Again after the COMMIT, so a removal during it is seen, and with write access: the
      // batch may sit in an unlinked file, but no caller is told it is stored.
      this.files?.assertIntact('commit the event');
      return results;
    };
    this.groupCommit = createBatcher({ flush: commitIngests, maxBatch: 512, maxConcurrent: 1 });
  }

  ingest(event: NewEvent): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed'));
    return this.groupCommit.add(event);
  }

  async isWritable(): Promise<boolean> {
    try {
      this.files?.assertInPlace('write');
      this.writes++;
      this.statements.probe();
      this.files?.assertIntact('write');
      return true;
    } catch {
      return false;
    }
  }

  async claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    return this.write('claim deliveries', () => this.statements.claim(request));
  }

  async completeAttempts(completions: readonly AttemptCompletion[], owner: string): Promise<FallbackDelivery[]> {
    if (completions.length === 0) return [];
    return this.write('record attempts', () => this.statements.complete(completions, owner, Date.now()));
  }

  async releaseClaims(deliveryIds: readonly string[], nextAttemptAt: number, attempted = false): Promise<void> {
    if (deliveryIds.length === 0) return;
    this.write('release claims', () => this.statements.release(deliveryIds, nextAttemptAt, Date.now(), attempted ? 1 : 0));
  }

  async releaseLostClaims(destination: string, owner: string, keep: readonly string[], now: number): Promise<number> {
    return this.write('release lost claims', () => this.statements.releaseLost(destination, owner, JSON.stringify(keep), now));
  }

  async recoverOrphanedLeases(now: number): Promise<number> {
    return this.write('release leases', () => this.statements.releaseAll.run(now, now).changes);
  }

  /**
   * Reads only. `PRAGMA data_version` changes when another connection (a CLI command) commits,
   * and this store counts its own commits: while neither moved, the last answer still holds
   * (it holds times, not "due now") and no query runs at all — an idle relay's poll is two
   * integer reads.
   */
  async nextDueAt(queries: readonly DueQuery[]): Promise<Record<string, number>> {
    const key = `${this.statements.dataVersion()}:${this.writes}:${JSON.stringify(queries)}`;
    if (this.dueAnswer?.key === key) return { ...this.dueAnswer.due };
    const due: Record<string, number> = {};
    for (const { destination, fifo } of queries) {
      const at = fifo ? this.statements.fifoHeadDue(destination) : this.statements.nextDue.get(destination);
      if (typeof at === 'number') due[destination] = at;
    }
    this.dueAnswer = { key, due };
    return { ...due };
  }

  async writeTransactions(): Promise<number> {
    return this.writes;
  }

  recordRun: Store['recordRun'] = (run, request) => {
    if (this.closed) return Promise.reject(new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed'));
    return this.runCommit.add({ run, request });
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.groupCommit.drain();
    await this.runCommit.drain();
    // Files changed since the last write: empty our WAL before it is left beside a stranger.
    if (this.files?.problem()) emptyWal(this.db);
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A checkpoint is an optimisation; the WAL is replayed on the next open.
    }
    this.db.close();
    this.lock?.release();
  }

  private write<T>(what: string, run: () => T): T {
    // No write once the files at the path are not the ones this connection writes.
    this.files?.assertInPlace(what);
    this.writes++;
    try {
      return run();
    } catch (error) {
      throw toStorageError(error, what);
    }
  }
}

/**
 * When the files at the path are no longer ours, a successor there would share our -wal and
 * -shm by name: the WAL's frames go into our own file (which may live on elsewhere) and the
 * WAL is emptied, so the next open of whatever is at the path reads nothing of ours.
 */
function emptyWal(db: Database): void {
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // A read-only file system or a reader in the way: the refusal stands either way.
  }
}

function prepareDeliveryStatements(db: Database, busyTimeoutMs: number) {
  // Due rows with their body sizes first (length() of a blob reads no body), then the bodies of
  // the due-order prefix that fits the byte budget: a claim never loads a body it does not take.
  // Sorted by the caller, not by SQL, which would copy every body into a temporary sorter.
  const selectDue: Statement = db.prepare(
    `WITH due AS (
       SELECT d.id, d.event_id, d.destination, d.source, d.status, d.attempts, d.budget_used, d.next_attempt_at, d.fallback_for, length(e.body) AS size
         FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.destination = @destination AND d.status IN ('pending', 'in_flight') AND d.next_attempt_at <= @now
        ORDER BY d.next_attempt_at, d.id
        LIMIT @limit
     ), sized AS (
       SELECT due.*,
              sum(size) OVER (ORDER BY next_attempt_at, id ROWS UNBOUNDED PRECEDING) AS running,
              row_number() OVER (ORDER BY next_attempt_at, id) AS position
         FROM due
     )
     SELECT s.id, s.event_id, s.destination, s.source, s.status, s.attempts, s.budget_used, s.position, s.fallback_for, e.request_id, e.content_type, e.content_encoding, e.body, e.received_at,
            r.metadata AS run_metadata
       FROM sized s JOIN events e ON e.id = s.event_id LEFT JOIN runs r ON r.event_id = e.id
      WHERE s.running <= @maxBodyBytes OR (s.position = 1 AND @oversizedFirst)`,
  );
  // Taking over an expired lease: its claimer may have sent the attempt, so the count moves on.
  const lease = db.prepare(
    `UPDATE deliveries SET status = 'in_flight', next_attempt_at = ?, lease_owner = ?, updated_at = ?, attempts = attempts + ? WHERE id = ?`,
  );
  const fifoHead = db.prepare(
    `SELECT id, next_attempt_at FROM deliveries
      WHERE destination = ? AND status IN ('pending', 'in_flight')
      ORDER BY coalesce(queued_at, created_at), id LIMIT 1`,
  );
  const selectOne = db.prepare(
    `SELECT d.id, d.event_id, d.destination, d.source, d.status, d.attempts, d.budget_used, d.fallback_for, e.request_id, e.content_type,
            e.content_encoding, e.body, e.received_at, r.metadata AS run_metadata
       FROM deliveries d JOIN events e ON e.id = d.event_id LEFT JOIN runs r ON r.event_id = e.id
      WHERE d.id = ?`,
  );
  const claimHead = (request: ClaimRequest): ClaimedDelivery[] => {
    const head = fifoHead.get(request.destination) as { id: string; next_attempt_at: number } | undefined;
    if (!head || head.next_attempt_at > request.now || request.limit < 1) return [];
    const row = selectOne.get(head.id) as ClaimRow & { status: string };
    const takenOver = row.status === 'in_flight' ? 1 : 0;
    lease.run(request.leaseExpiresAt, request.owner, request.now, takenOver, row.id);
    return [toClaimedDelivery({ ...row, attempts: row.attempts + takenOver })];
  };
  const claim = db.transaction((request: ClaimRequest): ClaimedDelivery[] => {
    if (request.fifo) return claimHead(request);
    const rows = selectDue.all({
      destination: request.destination,
      now: request.now,
      limit: request.limit,
      maxBodyBytes: request.maxBodyBytes ?? Number.MAX_SAFE_INTEGER,
      oversizedFirst: request.oversizedFirst ? 1 : 0,
    }) as (ClaimRow & { status: string; position: number })[];
    return rows.sort((a, b) => a.position - b.position).map((row) => {
      const takenOver = row.status === 'in_flight' ? 1 : 0;
      lease.run(request.leaseExpiresAt, request.owner, request.now, takenOver, row.id);
      return toClaimedDelivery({ ...row, attempts: row.attempts + takenOver });
    });
  });

  const insertAttempt = db.prepare(
    `INSERT INTO attempts (delivery_id, number, destination, started_at, duration_ms, status_code, error_code, error, response_snippet, outcome)
     SELECT @deliveryId, @number, destination, @startedAt, @durationMs, @statusCode, @errorCode, @error, @responseSnippet, @outcome
       FROM deliveries WHERE id = @deliveryId
     ON CONFLICT (delivery_id, number) DO NOTHING`,
  );
  const transition = db.prepare(
    `UPDATE deliveries
        SET status = @status, next_attempt_at = @nextAttemptAt, lease_owner = NULL,
            attempts = max(attempts, @number), budget_used = budget_used + @counts,
            last_status = @statusCode, last_error = @error, updated_at = @now,
            delivered_at = CASE WHEN @status = 'delivered' THEN @now ELSE delivered_at END,
            dead_at = CASE WHEN @status = 'dead' THEN @now ELSE NULL END
      WHERE id = @deliveryId AND status = 'in_flight' AND lease_owner = @owner`,
  );
  // The fallback delivery is created only by the transition that killed the delivery (changes = 1), in its transaction.
  const insertFallback = db.prepare(
    `INSERT INTO deliveries (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at, fallback_for)
     SELECT @id, event_id, @to, source, 'pending', @now, @now, @now, destination FROM deliveries WHERE id = @deliveryId
     ON CONFLICT (event_id, destination) DO NOTHING
     RETURNING event_id, fallback_for`,
  );
  const complete = db.transaction((completions: readonly AttemptCompletion[], owner: string, now: number): FallbackDelivery[] => {
    const fallbacks: FallbackDelivery[] = [];
    for (const { attempt, decision, countsAgainstBudget, fallback } of completions) {
      insertAttempt.run({
        deliveryId: attempt.deliveryId,
        number: attempt.number,
        startedAt: attempt.startedAt,
        durationMs: Math.round(attempt.durationMs),
        statusCode: attempt.statusCode,
        errorCode: attempt.errorCode,
        error: attempt.error,
        responseSnippet: attempt.responseSnippet,
        outcome: attempt.outcome,
      });
      const status = decision.kind === 'retry' ? 'pending' : decision.kind;
      const moved = transition.run({
        deliveryId: attempt.deliveryId,
        owner,
        status,
        nextAttemptAt: decision.kind === 'retry' ? decision.nextAttemptAt : now,
        number: attempt.number,
        counts: countsAgainstBudget ? 1 : 0,
        statusCode: attempt.statusCode,
        error: attempt.outcome === 'delivered' ? null : (attempt.error ?? attempt.errorCode),
        now,
      });
      if (moved.changes === 1 && status === 'dead' && fallback !== undefined) {
        const id = newId('dlv');
        const created = insertFallback.get({ id, to: fallback, now, deliveryId: attempt.deliveryId }) as { event_id: string; fallback_for: string } | undefined;
        if (created) fallbacks.push({ deliveryId: id, eventId: created.event_id, from: created.fallback_for, to: fallback });
      }
    }
    return fallbacks;
  });

  const releaseOne = db.prepare(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_owner = NULL, updated_at = ?, attempts = attempts + ?
      WHERE id = ? AND status = 'in_flight'`,
  );
  const release = db.transaction((ids: readonly string[], nextAttemptAt: number, now: number, attempted: 0 | 1) => {
    for (const id of ids) releaseOne.run(nextAttemptAt, now, attempted, id);
  });
  const releaseAll = db.prepare(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_owner = NULL, updated_at = ?, attempts = attempts + 1
      WHERE status = 'in_flight'`,
  );
  const releaseLost = db.prepare(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_owner = NULL, updated_at = ?
      WHERE destination = ? AND status = 'in_flight' AND lease_owner = ? AND id NOT IN (SELECT value FROM json_each(?))`,
  );
  const nextDue = db
    .prepare(
      `SELECT min(next_attempt_at) FROM deliveries WHERE destination = ? AND status IN ('pending', 'in_flight')`,
    )
    .pluck();
  const fifoHeadDue = (destination: string): number | undefined =>
    (fifoHead.get(destination) as { next_attempt_at: number } | undefined)?.next_attempt_at;
  const dataVersion = db.prepare('PRAGMA data_version').pluck();

  const probeInsert = db.prepare('INSERT INTO readiness_probe (at, pad) VALUES (?, zeroblob(8192))');
  const probeDelete = db.prepare('DELETE FROM readiness_probe');
  const probe = db.transaction(() => {
    probeInsert.run(Date.now());
    probeDelete.run();
  });

  /**
   * Delivery bookkeeping commits with synchronous=NORMAL: it survives a process crash (the
   * WAL is in the OS cache) and only an OS crash or power loss can undo it — which at worst
   * sends a delivery again (at-least-once). The next FULL commit (any ingest) syncs it too.
   * Ingest, the 2xx promise, stays synchronous=FULL.
   */
  const syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
  const syncFull = db.prepare('PRAGMA synchronous = FULL');
  const busyShort = db.prepare(`PRAGMA busy_timeout = ${BOOKKEEPING_BUSY_TIMEOUT_MS}`);
  const busyDefault = db.prepare(`PRAGMA busy_timeout = ${Math.round(busyTimeoutMs)}`);
  // Bookkeeping also waits only briefly for a lock: it is retried by the dispatcher, while an
  // ingest queued behind it must get its answer within busyTimeoutMs.
  const relaxed = <A extends unknown[], R>(run: (...args: A) => R) => (...args: A): R => {
    syncNormal.run();
    busyShort.run();
    try {
      return run(...args);
    } finally {
      syncFull.run();
      busyDefault.run();
    }
  };

  return {
    // The probe waits the full busy timeout: a readiness check should not flap on a brief CLI write.
    probe: () => {
      syncNormal.run();
      try {
        probe.immediate();
      } finally {
        syncFull.run();
      }
    },
    claim: relaxed((request: ClaimRequest) => claim.immediate(request)),
    complete: relaxed((completions: readonly AttemptCompletion[], owner: string, now: number) => complete.immediate(completions, owner, now)),
    release: relaxed((ids: readonly string[], at: number, now: number, attempted: 0 | 1) => release.immediate(ids, at, now, attempted)),
    releaseLost: relaxed((destination: string, owner: string, keepJson: string, now: number) => releaseLost.run(now, now, destination, owner, keepJson).changes),
    releaseAll,
    nextDue,
    fifoHeadDue,
    dataVersion: () => dataVersion.get() as number,
  };
}
