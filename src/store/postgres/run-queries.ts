import type { Pool, PoolClient } from 'pg';
import { RUN_STATUSES, type AnnouncementKind, type NewRun, type Run, type RunStatus } from '../../glossary.js';
import { newId } from '../../ids.js';
import { announcementOf, metadataText, RUN_COLUMNS, toRun, type RunRow } from '../run-rows.js';
import { emptyRunCounts, type OverdueSweep, type RecordRunRequest, type RunFilter, type RunPage, type RunStore } from '../store.js';
import { notifyDue } from './operator-queries.js';
import type { Tables } from './sql.js';
import { inTransaction, queryRows, writeRows } from './transaction.js';

/**
 * The PostgreSQL side of run tracking. Several processes sweep the same table: due rows are
 * taken with `FOR UPDATE SKIP LOCKED`, so each run is handled by one process at a time, and
 * a status check holds its run by pushing `due_at` to the end of a lease.
 */
export type RunQueries = ReturnType<typeof createRunQueries>;

/** `store`: the run store's methods; `completeRuns`: ingest's part, inside its transaction. */
export function createRunQueries(pool: Pool, t: Tables) {
  /** Completes runs with their callbacks' events (in the caller's transaction); returns run id -> ms from submission. */
  const completeRuns = async (client: PoolClient, completions: readonly { runId: string; eventId: string; at: number }[]): Promise<Map<string, number>> => {
    const done = new Map<string, number>();
    if (completions.length === 0) return done;
    const sorted = [...completions].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    const rows = await client.query<{ run_id: string; completed_at: number; submitted_at: number }>(
      `UPDATE ${t.runs} r SET status = 'completed', completed_at = c.at, event_id = c.event_id, due_at = NULL
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS c(run_id, event_id, at)
        WHERE r.run_id = c.run_id AND r.status <> 'completed'
       RETURNING r.run_id, r.completed_at, r.submitted_at`,
      [sorted.map((c) => c.runId), sorted.map((c) => c.eventId), sorted.map((c) => c.at)],
    );
    for (const row of rows.rows) done.set(row.run_id, Math.max(0, row.completed_at - row.submitted_at));
    return done;
  };

  /** Commits one announcement event per run (once per run and kind), with its deliveries. */
  const announce = async (client: PoolClient, kind: AnnouncementKind, runs: readonly Run[], now: number, destinations: readonly string[]): Promise<void> => {
    if (runs.length === 0) return;
    const events = runs.map((run) => ({ id: newId('evt'), ...announcementOf(kind, run) }));
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO ${t.events} (id, source, dedupe_key, content_type, body, received_at)
       SELECT id, $6::text, dedupe_key, content_type, body, $5
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS r(id, dedupe_key, content_type, body)
       ON CONFLICT (dedupe_key, source) DO NOTHING
       RETURNING id`,
      [events.map((e) => e.id), events.map((e) => e.dedupeKey), events.map((e) => e.contentType), events.map((e) => e.body), now, events[0]!.source],
    );
    const eventIds = inserted.rows.map((row) => row.id);
    if (eventIds.length === 0 || destinations.length === 0) return;
    const deliveries = eventIds.flatMap((eventId) => destinations.map((destination) => ({ id: newId('dlv'), eventId, destination })));
    await client.query(
      `INSERT INTO ${t.deliveries} (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at)
       SELECT id, event_id, destination, $4, 'pending', $5, $5, $5 FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, event_id, destination)`,
      [deliveries.map((d) => d.id), deliveries.map((d) => d.eventId), deliveries.map((d) => d.destination), events[0]!.source, now],
    );
    await notifyDue(client, t, destinations);
  };

  /** Callbacks already stored for these run ids (dedupe key = run id on the callback source). */
  const callbacksOf = async (client: PoolClient, runIds: readonly string[], source: string) => {
    const rows = await client.query<{ id: string; dedupe_key: string; received_at: number }>(
      `SELECT id, dedupe_key, received_at FROM ${t.events} WHERE dedupe_key = ANY($1::text[]) AND source = $2`,
      [runIds, source],
    );
    return new Map(rows.rows.map((row) => [row.dedupe_key, { eventId: row.id, at: row.received_at }]));
  };

  const store: RunStore = {
    recordRun: (run: NewRun, request: RecordRunRequest) =>
      inTransaction(pool, 'record the run', async (client) => {
        const inserted = await client.query(
          `INSERT INTO ${t.runs} (id, run_id, project, app, status, metadata, submitted_at, due_at) VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7)
           ON CONFLICT (run_id) DO NOTHING`,
          [newId('run'), run.runId, run.project, run.app, metadataText(run.metadata), run.submittedAt, request.overdueAt],
        );
        const created = inserted.rowCount === 1;
        if (created) {
          const callback = (await callbacksOf(client, [run.runId], request.callbackSource)).get(run.runId);
          if (callback) await completeRuns(client, [{ runId: run.runId, eventId: callback.eventId, at: callback.at }]);
        }
        const row = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${t.runs} r WHERE r.run_id = $1`, [run.runId]);
        return { run: toRun(row.rows[0]!), created };
      }),

    markOverdueRuns: (sweep: OverdueSweep) =>
      inTransaction(pool, 'mark runs overdue', async (client) => {
        const due = (
          await client.query<RunRow>(
            `SELECT ${RUN_COLUMNS} FROM ${t.runs} r WHERE r.status = 'submitted' AND r.due_at <= $1
              ORDER BY r.due_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [sweep.now, sweep.limit],
          )
        ).rows.map(toRun);
        if (due.length === 0) return [];
        const callbacks = await callbacksOf(client, due.map((run) => run.runId), sweep.callbackSource);
        await completeRuns(client, [...callbacks].map(([runId, callback]) => ({ runId, ...callback })));
        const overdue = due.filter((run) => !callbacks.has(run.runId)).map((run) => ({ ...run, status: 'overdue' as const, overdueAt: sweep.now }));
        if (overdue.length === 0) return [];
        await client.query(`UPDATE ${t.runs} SET status = 'overdue', overdue_at = $2, due_at = $3 WHERE run_id = ANY($1::text[]) AND status = 'submitted'`, [
          overdue.map((run) => run.runId),
          sweep.now,
          sweep.nextCheckAt,
        ]);
        await announce(client, 'run.overdue', overdue, sweep.now, sweep.announceTo);
        return overdue;
      }),

    claimRunChecks: async (request: { now: number; limit: number; leaseExpiresAt: number }) =>
      (
        await writeRows<RunRow>(
          pool,
          'claim run checks',
          `WITH due AS (
             SELECT id FROM ${t.runs} WHERE status = 'overdue' AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
           )
           UPDATE ${t.runs} r SET due_at = $3 FROM due WHERE r.id = due.id
           RETURNING ${RUN_COLUMNS}`,
          [request.now, request.limit, request.leaseExpiresAt],
        )
      ).map(toRun),

    markRunsLost: (runIds: readonly string[], now: number, announceTo: readonly string[]) =>
      inTransaction(pool, 'mark runs lost', async (client) => {
        if (runIds.length === 0) return [];
        const lost = (
          await client.query<RunRow>(
            `UPDATE ${t.runs} r SET status = 'lost', lost_at = $2, due_at = NULL WHERE r.run_id = ANY($1::text[]) AND r.status = 'overdue'
             RETURNING ${RUN_COLUMNS}`,
            [[...runIds].sort(), now],
          )
        ).rows.map(toRun);
        await announce(client, 'run.lost', lost, now, announceTo);
        return lost;
      }),

    scheduleRunChecks: async (runIds: readonly string[], at: number) => {
      if (runIds.length === 0) return;
      await writeRows(pool, 'schedule run checks', `UPDATE ${t.runs} SET due_at = $2 WHERE run_id = ANY($1::text[]) AND status = 'overdue'`, [runIds, at]);
    },

    getRun: async (runId: string): Promise<Run | null> => {
      const rows = await queryRows<RunRow>(pool, 'read the run', `SELECT ${RUN_COLUMNS} FROM ${t.runs} r WHERE r.run_id = $1`, [runId]);
      return rows[0] ? toRun(rows[0]) : null;
    },

    listRuns: async (filter: RunFilter): Promise<RunPage> => {
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (filter.status) {
        params.push(filter.status);
        clauses.push(`r.status = $${params.length}`);
      }
      if (filter.cursor) {
        params.push(filter.cursor);
        clauses.push(`r.id < $${params.length}`);
      }
      params.push(filter.limit + 1);
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      const rows = await queryRows<RunRow>(pool, 'list runs', `SELECT ${RUN_COLUMNS} FROM ${t.runs} r ${where} ORDER BY r.id DESC LIMIT $${params.length}`, params);
      const page = rows.slice(0, filter.limit);
      return { runs: page.map(toRun), nextCursor: rows.length > filter.limit ? page[page.length - 1]!.id : null };
    },

    runCounts: async (): Promise<Record<RunStatus, number>> => {
      const result = emptyRunCounts();
      for (const row of await queryRows<{ status: RunStatus; n: number }>(pool, 'count runs', `SELECT status, count(*)::bigint AS n FROM ${t.runs} GROUP BY status`)) {
        if (RUN_STATUSES.includes(row.status)) result[row.status] = Number(row.n);
      }
      return result;
    },
  };

  return { completeRuns, store };
}
