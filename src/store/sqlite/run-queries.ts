import type { Database } from 'better-sqlite3';
import { RUN_STATUSES, type AnnouncementKind, type NewRun, type Run, type RunStatus } from '../../glossary.js';
import { newId } from '../../ids.js';
import { announcementOf, metadataText, RUN_COLUMNS, toRun, type RunRow } from '../run-rows.js';
import { emptyRunCounts, type OverdueSweep, type RecordRunRequest, type RunStore } from '../store.js';
import type { GuardedWrite } from './guarded-write.js';

/** The SQLite side of run tracking: record, complete, sweep, announce, read. */
export type RunQueries = ReturnType<typeof createRunQueries>;

/**
 * `store`: the run store's methods, writes run through `write`; `recordRun` is the adapter's
 * (it batches `recordRuns`). `completeRun`: ingest's part, inside its transaction.
 */
export function createRunQueries(db: Database, write: GuardedWrite) {
  const insertRun = db.prepare(
    `INSERT INTO runs (id, run_id, project, app, status, metadata, submitted_at, due_at) VALUES (?, ?, ?, ?, 'submitted', ?, ?, ?)
     ON CONFLICT (run_id) DO NOTHING`,
  );
  const getRun = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.run_id = ?`);
  const callbackOf = db.prepare('SELECT id, received_at FROM events WHERE dedupe_key = ? AND source = ?');
  const complete = db.prepare(
    `UPDATE runs SET status = 'completed', completed_at = ?, event_id = ?, due_at = NULL WHERE run_id = ? AND status <> 'completed'
     RETURNING submitted_at`,
  ).pluck();
  const dueSubmitted = db.prepare(
    `SELECT ${RUN_COLUMNS} FROM runs r INDEXED BY runs_submitted_due WHERE r.status = 'submitted' AND r.due_at <= ? ORDER BY r.due_at LIMIT ?`,
  );
  const toOverdue = db.prepare(`UPDATE runs SET status = 'overdue', overdue_at = ?, due_at = ? WHERE run_id = ? AND status = 'submitted'`);
  const dueChecks = db.prepare(
    `SELECT ${RUN_COLUMNS} FROM runs r INDEXED BY runs_overdue_due WHERE r.status = 'overdue' AND r.due_at <= ? ORDER BY r.due_at LIMIT ?`,
  );
  const setDue = db.prepare(`UPDATE runs SET due_at = ? WHERE run_id = ? AND status = 'overdue'`);
  const toLost = db.prepare(`UPDATE runs SET status = 'lost', lost_at = ?, due_at = NULL WHERE run_id = ? AND status = 'overdue'`);
  const insertEvent = db.prepare(
    `INSERT INTO events (id, source, dedupe_key, content_type, body, received_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (dedupe_key, source) DO NOTHING`,
  );
  const insertDelivery = db.prepare(
    `INSERT INTO deliveries (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
  );
  const counts = db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status');

  /** Completes a run with its callback's event; returns the submission -> callback time, or null when nothing changed. */
  const completeRun = (runId: string, eventId: string, at: number): number | null => {
    const submittedAt = complete.get(at, eventId, runId) as number | undefined;
    return submittedAt === undefined ? null : Math.max(0, at - submittedAt);
  };

  const announce = (kind: AnnouncementKind, run: Run, now: number, destinations: readonly string[]) => {
    const event = announcementOf(kind, run);
    const id = newId('evt');
    if (insertEvent.run(id, event.source, event.dedupeKey, event.contentType, event.body, now).changes === 0) return;
    for (const destination of destinations) insertDelivery.run(newId('dlv'), id, destination, event.source, now, now, now);
  };

  const record = db.transaction((run: NewRun, request: RecordRunRequest) => {
    const created = insertRun.run(newId('run'), run.runId, run.project, run.app, metadataText(run.metadata), run.submittedAt, request.overdueAt).changes === 1;
    if (created) {
      const callback = callbackOf.get(run.runId, request.callbackSource) as { id: string; received_at: number } | undefined;
      if (callback) complete.get(callback.received_at, callback.id, run.runId);
    }
    return { run: toRun(getRun.get(run.runId) as RunRow), created };
  });

  const sweepOverdue = db.transaction((sweep: OverdueSweep): Run[] => {
    const overdue: Run[] = [];
    for (const run of (dueSubmitted.all(sweep.now, sweep.limit) as RunRow[]).map(toRun)) {
      const callback = callbackOf.get(run.runId, sweep.callbackSource) as { id: string; received_at: number } | undefined;
      if (callback) {
        complete.get(callback.received_at, callback.id, run.runId);
        continue;
      }
      toOverdue.run(sweep.now, sweep.nextCheckAt, run.runId);
      const next = { ...run, status: 'overdue' as const, overdueAt: sweep.now };
      announce('run.overdue', next, sweep.now, sweep.announceTo);
      overdue.push(next);
    }
    return overdue;
  });

  const claimChecks = db.transaction((request: { now: number; limit: number; leaseExpiresAt: number }): Run[] => {
    const runs = (dueChecks.all(request.now, request.limit) as RunRow[]).map(toRun);
    for (const run of runs) setDue.run(request.leaseExpiresAt, run.runId);
    return runs;
  });

  const markLost = db.transaction((runIds: readonly string[], now: number, announceTo: readonly string[]): Run[] => {
    const lost: Run[] = [];
    for (const runId of runIds) {
      if (toLost.run(now, runId).changes === 0) continue;
      const run = toRun(getRun.get(runId) as RunRow);
      announce('run.lost', run, now, announceTo);
      lost.push(run);
    }
    return lost;
  });

  const schedule = db.transaction((runIds: readonly string[], at: number) => {
    for (const runId of runIds) setDue.run(at, runId);
  });

  /** Several records in one transaction (group commit: one fsync for submissions that arrive together). */
  const recordBatch = db.transaction((items: readonly { run: NewRun; request: RecordRunRequest }[]) => items.map(({ run, request }) => record(run, request)));

  const store: Omit<RunStore, 'recordRun'> = {
    markOverdueRuns: async (sweep) => write('mark runs overdue', () => sweepOverdue.immediate(sweep)),
    claimRunChecks: async (request) => write('claim run checks', () => claimChecks.immediate(request)),
    markRunsLost: async (runIds, now, announceTo) => write('mark runs lost', () => markLost.immediate(runIds, now, announceTo)),
    scheduleRunChecks: async (runIds, at) => write('schedule run checks', () => schedule.immediate(runIds, at)),

    async getRun(runId) {
      const row = getRun.get(runId) as RunRow | undefined;
      return row ? toRun(row) : null;
    },

    async listRuns(filter) {
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (filter.status) {
        clauses.push('r.status = ?');
        params.push(filter.status);
      }
      if (filter.cursor) {
        clauses.push('r.id < ?');
        params.push(filter.cursor);
      }
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      const rows = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r ${where} ORDER BY r.id DESC LIMIT ?`).all(...params, filter.limit + 1) as RunRow[];
      const page = rows.slice(0, filter.limit);
      return { runs: page.map(toRun), nextCursor: rows.length > filter.limit ? page[page.length - 1]!.id : null };
    },

    async runCounts() {
      const result = emptyRunCounts();
      for (const row of counts.all() as { status: RunStatus; n: number }[]) {
        if (RUN_STATUSES.includes(row.status)) result[row.status] = row.n;
      }
      return result;
    },
  };

  return {
    completeRun,
    /** Several records in one transaction (group commit: one fsync for submissions that arrive together). */
    recordRuns: (items: readonly { run: NewRun; request: RecordRunRequest }[]) => recordBatch.immediate(items),
    store,
  };
}
