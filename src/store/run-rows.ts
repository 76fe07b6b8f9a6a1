import { RUNS_SOURCE, type AnnouncementKind, type Run, type RunStatus } from '../glossary.js';

/**
 * What both SQL adapters share about runs: the row's columns, its mapping to the glossary's
 * Run, and the announcement event a run's overdue or lost state commits.
 */

export interface RunRow {
  id: string;
  run_id: string;
  project: string | null;
  app: string | null;
  status: RunStatus;
  metadata: string | null;
  submitted_at: number;
  completed_at: number | null;
  event_id: string | null;
  overdue_at: number | null;
  lost_at: number | null;
}

export const RUN_COLUMNS = 'r.id, r.run_id, r.project, r.app, r.status, r.metadata, r.submitted_at, r.completed_at, r.event_id, r.overdue_at, r.lost_at';

export function toRun(row: RunRow): Run {
  return {
    runId: row.run_id,
    project: row.project,
    app: row.app,
    status: row.status,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    submittedAt: Number(row.submitted_at),
    completedAt: row.completed_at === null ? null : Number(row.completed_at),
    eventId: row.event_id,
    overdueAt: row.overdue_at === null ? null : Number(row.overdue_at),
    lostAt: row.lost_at === null ? null : Number(row.lost_at),
  };
}

/**
 * Metadata as stored and echoed in the `hookrelay-run-metadata` header: compact JSON, with
 * every non-ASCII character written as a \u escape (the same JSON value) so it is always a
 * valid header value; or null.
 */
export function metadataText(metadata: Record<string, unknown> | null): string | null {
  if (metadata === null) return null;
  return JSON.stringify(metadata).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface Announcement {
  source: typeof RUNS_SOURCE;
  /** Once per run and kind: the dedupe key of the announcement event. */
  dedupeKey: string;
  contentType: 'application/json';
  body: Buffer;
}

/** The event that announces a run became overdue or lost, as the contract words its body. */
export function announcementOf(kind: AnnouncementKind, run: Run): Announcement {
  const body = { type: kind, runId: run.runId, app: run.app, submittedAt: new Date(run.submittedAt).toISOString(), metadata: run.metadata ?? {} };
  return { source: RUNS_SOURCE, dedupeKey: `${kind}:${run.runId}`, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) };
}
