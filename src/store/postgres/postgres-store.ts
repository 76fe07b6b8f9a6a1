import pg, { type Pool, type PoolClient } from 'pg';
import { HookrelayError } from '../../errors.js';
import type { AttemptCompletion, ClaimedDelivery, FallbackDelivery, IngestResult, NewEvent } from '../../glossary.js';
import { newId } from '../../ids.js';
import { createBatcher, type Batcher } from '../../batcher.js';
import type { ClaimRequest, DueQuery, OperatorStore, RunStore, Store } from '../store.js';
import { toClaimedDelivery, type ClaimRow } from '../rows.js';
import { createDueListener, type DueListener } from './due-listener.js';
import { migrate } from './migrate.js';
import { createPool } from './pool.js';
import { createOperatorQueries, notifyDue } from './operator-queries.js';
import { createQuarantineQueries } from './quarantine-queries.js';
import { createRunQueries, type RunQueries } from './run-queries.js';
import { tablesOf, type Tables } from './sql.js';
import { toStorageError } from './storage-error.js';
import { inTransaction, queryRows, writeRows, writeTransactionsOf } from './transaction.js';

/** First key of the advisory locks that serialise fifo head claims (two-key locks: apart from migrate's). */
const FIFO_LOCK_SPACE = 0x686b72; // "hkr"

export interface PostgresStoreOptions {
  url: string;
  poolSize: number;
  schema: string;
  /** Who connects: the connections' application_name (pg_stat_activity). */
  client: 'serve' | 'cli';
  /**
   * A statement (a commit included) that cannot finish within this many ms fails, and
   * ingress answers 503 — the PostgreSQL counterpart of SQLite's busy timeout. Default 5000.
   */
  statementTimeoutMs?: number;
  /** How long to wait for a connection from the pool or to the server. Default 5000. */
  connectTimeoutMs?: number;
}

/** BIGINT (unix ms, counts) as numbers: every value we store fits in 2^53. */
const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Opens the PostgreSQL adapter: a connection pool on the configured schema, migrated under
 * an advisory lock. Several `serve` processes may share the schema (see docs/deployment.md).
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 5_000,
    keepAlive: true,
    // Tells operators (pg_stat_activity) which relay process holds which connection.
    application_name: `hookrelay-${options.client} pid=${process.pid}`,
    types,
  };
  const pool = createPool({ ...clientConfig, max: options.poolSize });
  try {
    await migrate(pool, options.schema);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw toStorageError(error, `open schema ${options.schema}`);
  }
  return new PostgresStore(pool, tablesOf(options.schema), createDueListener(clientConfig, tablesOf(options.schema).channel));
}

/** The operator, quarantine and run methods are the query modules' own, assigned in the constructor. */
interface PostgresStore extends OperatorStore, RunStore {}

class PostgresStore implements Store {
  private readonly groupCommit: Batcher<NewEvent, IngestResult>;
  private readonly completeRuns: RunQueries['completeRuns'];
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly t: Tables,
    private readonly dueListener: DueListener,
  ) {
    const runs = createRunQueries(pool, t);
    this.completeRuns = runs.completeRuns;
    Object.assign(this, createOperatorQueries(pool, t), createQuarantineQueries(pool, t), runs.store);
    // Ingests of one turn share a transaction; while two commits run, the next ones queue up together.
    this.groupCommit = createBatcher({
      flush: (batch) => inTransaction(pool, 'commit the event', (client) => this.ingestBatch(client, batch)),
      maxBatch: 256,
      maxConcurrent: 2,
    });
  }

  ingest(event: NewEvent): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed'));
    return this.groupCommit.add(event);
  }

  /**
   * One transaction for the whole batch, three statements whatever its size. Rows are
   * inserted in (dedupe key, source) order, so two processes inserting overlapping batches
   * take the unique index's locks in the same order and cannot deadlock each other.
   */
  private async ingestBatch(client: PoolClient, events: NewEvent[]): Promise<IngestResult[]> {
    const now = Date.now();
    const ids = events.map(() => newId('evt'));
    const order = events.map((_, index) => index).sort((a, b) => compareKeys(events[a]!, events[b]!));
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO ${this.t.events} (id, source, dedupe_key, content_type, body, received_at, content_encoding, request_id)
       SELECT id, source, dedupe_key, content_type, body, $6, content_encoding, request_id
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $7::text[], $8::text[])
              AS r(id, source, dedupe_key, content_type, body, content_encoding, request_id)
       ON CONFLICT (dedupe_key, source) DO NOTHING
       RETURNING id`,
      [
        order.map((i) => ids[i]),
        order.map((i) => events[i]!.source),
        order.map((i) => events[i]!.dedupeKey),
        order.map((i) => events[i]!.contentType),
        order.map((i) => events[i]!.body),
        now,
        order.map((i) => events[i]!.contentEncoding ?? null),
        order.map((i) => events[i]!.requestId ?? null),
      ],
    );
    const fresh = new Set(inserted.rows.map((row) => row.id));
    const stored = new Map<string, string>();
    const duplicates = events.filter((_, index) => !fresh.has(ids[index]!));
    if (duplicates.length > 0) {
      const found = await client.query<{ id: string; source: string; dedupe_key: string }>(
        `SELECT e.id, e.source, e.dedupe_key FROM ${this.t.events} e
           JOIN unnest($1::text[], $2::text[]) AS k(dedupe_key, source) ON e.dedupe_key = k.dedupe_key AND e.source = k.source`,
        [duplicates.map((event) => event.dedupeKey), duplicates.map((event) => event.source)],
      );
      for (const row of found.rows) stored.set(keyOf(row.source, row.dedupe_key), row.id);
    }
    const deliveries: { id: string; eventId: string; destination: string; source: string }[] = [];
    const results = events.map((event, index): IngestResult => {
      const id = ids[index]!;
      if (!fresh.has(id)) {
        const first = stored.get(keyOf(event.source, event.dedupeKey));
        if (first === undefined) throw new HookrelayError('HOOKRELAY_INTERNAL', 'a duplicate event vanished during ingest');
        return { id: first, duplicate: true };
      }
      for (const destination of event.destinations) deliveries.push({ id: newId('dlv'), eventId: id, destination, source: event.source });
      return { id, duplicate: false };
    });
    if (deliveries.length > 0) {
      await client.query(
        `INSERT INTO ${this.t.deliveries} (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at)
         SELECT id, event_id, destination, source, 'pending', $5, $5, $5
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(id, event_id, destination, source)`,
        [deliveries.map((d) => d.id), deliveries.map((d) => d.eventId), deliveries.map((d) => d.destination), deliveries.map((d) => d.source), now],
      );
      await notifyDue(client, this.t, deliveries.map((d) => d.destination));
    }
    const completions = events.flatMap((event, index) =>
      event.runId !== undefined && fresh.has(ids[index]!) ? [{ runId: event.runId, eventId: ids[index]!, at: now }] : [],
    );
    const completed = await this.completeRuns(client, completions);
    if (completed.size === 0) return results;
    return results.map((result, index) => {
      const runId = events[index]!.runId;
      const durationMs = runId === undefined || result.duplicate ? undefined : completed.get(runId);
      return durationMs === undefined ? result : { ...result, completedRun: { runId: runId!, durationMs } };
    });
  }

  async isWritable(): Promise<boolean> {
    try {
      await inTransaction(this.pool, 'probe', (client) => client.query(`UPDATE ${this.t.readiness} SET at = $1 WHERE id = 1`, [Date.now()]));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Claims with `FOR UPDATE SKIP LOCKED`: processes claiming the same destination at once
   * each take different rows and never wait for one another.
   */
  async claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    if (request.limit <= 0) return [];
    if (request.fifo) return this.claimHead(request);
    const rows = await writeRows<ClaimRow & { due_at: number }>(
      this.pool,
      'claim deliveries',
      // Sizes first (octet_length of a bytea reads no body), then only the due-order prefix
      // that fits the byte budget is leased and returned with its body.
      `WITH candidates AS (
         SELECT d.id, d.next_attempt_at AS due_at, octet_length(e.body) AS size
           FROM ${this.t.deliveries} d JOIN ${this.t.events} e ON e.id = d.event_id
          WHERE d.destination = $1 AND d.status IN ('pending', 'in_flight') AND d.next_attempt_at <= $2
          ORDER BY d.next_attempt_at, d.id
          LIMIT $3
          FOR UPDATE OF d SKIP LOCKED
       ), sized AS (
         SELECT id, due_at,
                sum(size) OVER (ORDER BY due_at, id ROWS UNBOUNDED PRECEDING) AS running,
                row_number() OVER (ORDER BY due_at, id) AS position
           FROM candidates
       ), due AS (
         SELECT id, due_at FROM sized WHERE running <= $6 OR (position = 1 AND $7::boolean)
       )
       UPDATE ${this.t.deliveries} d
          SET status = 'in_flight', next_attempt_at = $4, lease_owner = $5, updated_at = $2,
              -- Taking over an expired lease: its claimer may have sent the attempt, so the count moves on.
              attempts = d.attempts + CASE WHEN d.status = 'in_flight' THEN 1 ELSE 0 END
         FROM due, ${this.t.events} e
        WHERE d.id = due.id AND e.id = d.event_id
       RETURNING d.id, d.event_id, d.destination, d.source, d.attempts, d.budget_used, d.fallback_for, e.request_id, e.content_type, e.content_encoding, e.body, e.received_at, due.due_at,
                 (SELECT r.metadata FROM ${this.t.runs} r WHERE r.event_id = e.id) AS run_metadata`,
      [
        request.destination,
        request.now,
        request.limit,
        request.leaseExpiresAt,
        request.owner,
        request.maxBodyBytes ?? Number.MAX_SAFE_INTEGER,
        request.oversizedFirst ?? false,
      ],
    );
    return rows
      .sort((a, b) => a.due_at - b.due_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(toClaimedDelivery);
  }

  /**
   * `ordering: fifo`: a transaction-scoped advisory lock per (schema, destination) serialises
   * the head claims of every process, so one delivery at most is in flight across all of them.
   */
  private async claimHead(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    return inTransaction(this.pool, 'claim the queue head', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [FIFO_LOCK_SPACE, `${this.t.channel}:${request.destination}`]);
      const { rows } = await client.query<ClaimRow>(
        `WITH head AS (
           SELECT id FROM ${this.t.deliveries}
            WHERE destination = $1 AND status IN ('pending', 'in_flight')
            ORDER BY coalesce(queued_at, created_at), id LIMIT 1
         )
         UPDATE ${this.t.deliveries} d
            SET status = 'in_flight', next_attempt_at = $3, lease_owner = $4, updated_at = $2,
                attempts = d.attempts + CASE WHEN d.status = 'in_flight' THEN 1 ELSE 0 END
           FROM head, ${this.t.events} e
          WHERE d.id = head.id AND e.id = d.event_id AND d.next_attempt_at <= $2
         RETURNING d.id, d.event_id, d.destination, d.source, d.attempts, d.budget_used, d.fallback_for, e.request_id, e.content_type,
                   e.content_encoding, e.body, e.received_at,
                   (SELECT r.metadata FROM ${this.t.runs} r WHERE r.event_id = e.id) AS run_metadata`,
        [request.destination, request.now, request.leaseExpiresAt, request.owner],
      );
      return rows.map(toClaimedDelivery);
    });
  }

  /**
   * Attempts are always logged; the state changes only where the row is still in flight for
   * `owner` (a lost lease keeps the new owner's state). Two statements for the whole batch.
   */
  async completeAttempts(completions: readonly AttemptCompletion[], owner: string): Promise<FallbackDelivery[]> {
    if (completions.length === 0) return [];
    const now = Date.now();
    const attempts = completions.map((c) => c.attempt);
    // One transition per delivery, the first completion's (later ones would find the lease gone), in id order.
    const seen = new Set<string>();
    const transitions = completions
      .filter((c) => !seen.has(c.attempt.deliveryId) && seen.add(c.attempt.deliveryId))
      .sort((a, b) => (a.attempt.deliveryId < b.attempt.deliveryId ? -1 : 1));
    return inTransaction(this.pool, 'record attempts', async (client) => {
      await client.query(
        `INSERT INTO ${this.t.attempts} (delivery_id, number, destination, started_at, duration_ms, status_code, error_code, error, response_snippet, outcome)
         SELECT r.delivery_id, r.number, d.destination, r.started_at, r.duration_ms, r.status_code, r.error_code, r.error, r.response_snippet, r.outcome
           FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[])
                AS r(delivery_id, number, started_at, duration_ms, status_code, error_code, error, response_snippet, outcome)
           JOIN ${this.t.deliveries} d ON d.id = r.delivery_id
         ON CONFLICT (delivery_id, number) DO NOTHING`,
        [
          attempts.map((a) => a.deliveryId),
          attempts.map((a) => a.number),
          attempts.map((a) => a.startedAt),
          attempts.map((a) => Math.round(a.durationMs)),
          attempts.map((a) => a.statusCode),
          attempts.map((a) => a.errorCode),
          attempts.map((a) => a.error),
          attempts.map((a) => a.responseSnippet),
          attempts.map((a) => a.outcome),
        ],
      );
      const moved = await client.query<{ id: string; status: string }>(
        `UPDATE ${this.t.deliveries} d
            SET status = r.status, next_attempt_at = r.next_attempt_at, lease_owner = NULL,
                attempts = greatest(d.attempts, r.number), budget_used = d.budget_used + r.counts,
                last_status = r.status_code, last_error = r.error, updated_at = $9,
                delivered_at = CASE WHEN r.status = 'delivered' THEN $9 ELSE d.delivered_at END,
                dead_at = CASE WHEN r.status = 'dead' THEN $9 ELSE NULL END
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[], $6::int[], $7::text[])
                AS r(delivery_id, status, next_attempt_at, number, counts, status_code, error)
          WHERE d.id = r.delivery_id AND d.status = 'in_flight' AND d.lease_owner = $8
         RETURNING d.id, d.status`,
        [
          transitions.map((c) => c.attempt.deliveryId),
          transitions.map((c) => (c.decision.kind === 'retry' ? 'pending' : c.decision.kind)),
          transitions.map((c) => (c.decision.kind === 'retry' ? c.decision.nextAttemptAt : now)),
          transitions.map((c) => c.attempt.number),
          transitions.map((c) => (c.countsAgainstBudget ? 1 : 0)),
          transitions.map((c) => c.attempt.statusCode),
          transitions.map((c) => (c.attempt.outcome === 'delivered' ? null : (c.attempt.error ?? c.attempt.errorCode))),
          owner,
          now,
        ],
      );
      return this.createFallbacks(client, transitions, new Set(moved.rows.filter((row) => row.status === 'dead').map((row) => row.id)), now);
    });
  }

  /** In the transaction that killed them: one pending delivery to each killed delivery's fallback, unless the event has one there. */
  private async createFallbacks(client: PoolClient, transitions: readonly AttemptCompletion[], killed: ReadonlySet<string>, now: number): Promise<FallbackDelivery[]> {
    const falling = transitions.filter((c) => c.fallback !== undefined && killed.has(c.attempt.deliveryId));
    if (falling.length === 0) return [];
    const ids = falling.map(() => newId('dlv'));
    const { rows } = await client.query<{ id: string; event_id: string; destination: string; fallback_for: string }>(
      `INSERT INTO ${this.t.deliveries} (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at, fallback_for)
       SELECT r.id, d.event_id, r.destination, d.source, 'pending', $4, $4, $4, d.destination
         FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, dead_id, destination)
         JOIN ${this.t.deliveries} d ON d.id = r.dead_id
       ON CONFLICT (event_id, destination) DO NOTHING
       RETURNING id, event_id, destination, fallback_for`,
      [ids, falling.map((c) => c.attempt.deliveryId), falling.map((c) => c.fallback!), now],
    );
    await notifyDue(client, this.t, rows.map((row) => row.destination));
    return rows.map((row) => ({ deliveryId: row.id, eventId: row.event_id, from: row.fallback_for, to: row.destination }));
  }

  async releaseClaims(deliveryIds: readonly string[], nextAttemptAt: number, attempted = false): Promise<void> {
    if (deliveryIds.length === 0) return;
    await writeRows(
      this.pool,
      'release claims',
      `UPDATE ${this.t.deliveries} SET status = 'pending', next_attempt_at = $2, lease_owner = NULL, updated_at = $3, attempts = attempts + $4
        WHERE id = ANY($1::text[]) AND status = 'in_flight'`,
      [deliveryIds, nextAttemptAt, Date.now(), attempted ? 1 : 0],
    );
  }

  async releaseLostClaims(destination: string, owner: string, keep: readonly string[], now: number): Promise<number> {
    const rows = await writeRows<{ id: string }>(
      this.pool,
      'release lost claims',
      `UPDATE ${this.t.deliveries} SET status = 'pending', next_attempt_at = $4, lease_owner = NULL, updated_at = $4
        WHERE destination = $1 AND status = 'in_flight' AND lease_owner = $2 AND NOT (id = ANY($3::text[]))
       RETURNING id`,
      [destination, owner, keep, now],
    );
    return rows.length;
  }

  /**
   * Other processes may be alive and mid-attempt, so only EXPIRED leases are released here;
   * a live process's lease is never taken before it expires.
   */
  async recoverOrphanedLeases(now: number): Promise<number> {
    const rows = await writeRows<{ id: string }>(
      this.pool,
      'release leases',
      `UPDATE ${this.t.deliveries} SET status = 'pending', next_attempt_at = $1, lease_owner = NULL, updated_at = $1, attempts = attempts + 1
        WHERE status = 'in_flight' AND next_attempt_at <= $1
       RETURNING id`,
      [now],
    );
    return rows.length;
  }

  /** One read-only statement for every destination: the min along the due index, or the fifo head along the fifo index. */
  async nextDueAt(queries: readonly DueQuery[]): Promise<Record<string, number>> {
    if (queries.length === 0) return {};
    const rows = await queryRows<{ destination: string; at: string | number | null }>(
      this.pool,
      'read due times',
      `SELECT q.destination,
              CASE WHEN q.fifo
                THEN (SELECT d.next_attempt_at FROM ${this.t.deliveries} d
                       WHERE d.destination = q.destination AND d.status IN ('pending', 'in_flight')
                       ORDER BY coalesce(d.queued_at, d.created_at), d.id LIMIT 1)
                ELSE (SELECT min(d.next_attempt_at) FROM ${this.t.deliveries} d
                       WHERE d.destination = q.destination AND d.status IN ('pending', 'in_flight'))
              END AS at
         FROM unnest($1::text[], $2::boolean[]) AS q(destination, fifo)`,
      [queries.map((query) => query.destination), queries.map((query) => query.fifo === true)],
    );
    const due: Record<string, number> = {};
    for (const row of rows) if (row.at !== null) due[row.destination] = Number(row.at);
    return due;
  }

  async writeTransactions(): Promise<number> {
    return writeTransactionsOf(this.pool);
  }

  onDeliveriesDue(listener: (destinations: string[]) => void): () => void {
    return this.dueListener.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.groupCommit.drain();
    await this.dueListener.close();
    await this.pool.end().catch(() => undefined);
  }
}

function keyOf(source: string, dedupeKey: string): string {
  return `${source}\u0000${dedupeKey}`;
}

function compareKeys(a: NewEvent, b: NewEvent): number {
  return a.dedupeKey < b.dedupeKey ? -1 : a.dedupeKey > b.dedupeKey ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
}
