import { HookrelayError } from '../errors.js';
import { RUN_STATUSES, type NewRun, type Run, type RunStatus } from '../glossary.js';
import { nowOf, type OperatorContext } from './context.js';

/** A run as the CLI (`runs list --json`), the admin API and the dashboard show it. */
export interface RunView {
  runId: string;
  project: string | null;
  app: string | null;
  status: RunStatus;
  submittedAt: string;
  completedAt: string | null;
  /** The callback's event, once completed. */
  eventId: string | null;
  /** Submission -> callback, once completed. */
  durationMs: number | null;
  metadata: Record<string, unknown> | null;
}

export function runView(run: Run): RunView {
  return {
    runId: run.runId,
    project: run.project,
    app: run.app,
    status: run.status,
    submittedAt: new Date(run.submittedAt).toISOString(),
    completedAt: run.completedAt === null ? null : new Date(run.completedAt).toISOString(),
    eventId: run.eventId,
    durationMs: run.completedAt === null ? null : Math.max(0, run.completedAt - run.submittedAt),
    metadata: run.metadata,
  };
}

export const RUN_PAGE_MAX = 1000;

export function parseRunStatus(value: string | undefined): RunStatus | undefined {
  if (value === undefined) return undefined;
  if (!(RUN_STATUSES as readonly string[]).includes(value)) {
    throw new HookrelayError('HOOKRELAY_BAD_REQUEST', `status: expected one of ${RUN_STATUSES.join(', ')}`);
  }
  return value as RunStatus;
}

/** One page of runs, newest first. */
export async function listRuns(
  { store }: OperatorContext,
  filter: { status?: RunStatus; limit?: number; cursor?: string },
): Promise<{ runs: RunView[]; nextCursor: string | null }> {
  const page = await store.listRuns({ status: filter.status, limit: Math.min(Math.max(1, filter.limit ?? 100), RUN_PAGE_MAX), cursor: filter.cursor });
  return { runs: page.runs.map(runView), nextCursor: page.nextCursor };
}

/** Every matching run, newest first, page by page. */
export async function* eachRun(context: OperatorContext, filter: { status?: RunStatus }): AsyncGenerator<RunView> {
  let cursor: string | undefined;
  do {
    const page = await listRuns(context, { ...filter, limit: RUN_PAGE_MAX, cursor });
    yield* page.runs;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export async function showRun({ store }: OperatorContext, runId: string): Promise<RunView> {
  const run = await store.getRun(runId);
  if (!run) throw new HookrelayError('HOOKRELAY_RUN_NOT_FOUND', `no run with id ${runId}`);
  return runView(run);
}

export interface RunRegistration {
  runId: string;
  project?: string | null;
  app?: string | null;
  metadata?: Record<string, unknown> | null;
}

/**
 * Records a run submitted to Cerebrium (through the relay's proxy or elsewhere) as
 * `submitted`, due overdue after `runs.overdueAfterMs`. A known run id is left as it is.
 */
export async function registerRun(context: OperatorContext, registration: RunRegistration): Promise<{ run: RunView; created: boolean }> {
  const runs = context.config.runs;
  if (!runs) throw new HookrelayError('HOOKRELAY_BAD_REQUEST', 'run tracking is off: add a `runs` section to the config');
  const submittedAt = nowOf(context);
  const run: NewRun = {
    runId: registration.runId,
    project: registration.project ?? null,
    app: registration.app ?? null,
    metadata: registration.metadata ?? null,
    submittedAt,
  };
  const recorded = await context.store.recordRun(run, { overdueAt: submittedAt + runs.overdueAfterMs, callbackSource: runs.source });
  return { run: runView(recorded.run), created: recorded.created };
}

/** The dashboard's processing-time chart: the last hour of completions in 5-minute buckets. */
export const RUN_CHART_BUCKET_MS = 5 * 60 * 1000;
export const RUN_CHART_BUCKETS = 12;
/** Completions read for the chart: the newest ones (a busier hour is summarised from a sample this size). */
const RUN_CHART_SAMPLE = 1000;

export interface RunsOverview {
  counts: Record<RunStatus, number>;
  /** completed / (completed + overdue + lost): of the runs whose wait is over, the share whose callback came. Null before any. */
  completionRate: number | null;
  chart: {
    since: number;
    until: number;
    bucketMs: number;
    /** Per bucket with completions: how many, and the median and 95th percentile of submission -> callback. */
    buckets: { at: number; completed: number; p50Ms: number; p95Ms: number }[];
  };
}

export async function readRunsOverview(context: OperatorContext): Promise<RunsOverview> {
  const now = nowOf(context);
  const counts = await context.store.runCounts();
  const waited = counts.completed + counts.overdue + counts.lost;
  const since = Math.floor(now / RUN_CHART_BUCKET_MS) * RUN_CHART_BUCKET_MS - (RUN_CHART_BUCKETS - 1) * RUN_CHART_BUCKET_MS;
  const { runs } = await context.store.listRuns({ status: 'completed', limit: RUN_CHART_SAMPLE });
  const byBucket = new Map<number, number[]>();
  for (const run of runs) {
    if (run.completedAt === null || run.completedAt < since) continue;
    const at = Math.floor(run.completedAt / RUN_CHART_BUCKET_MS) * RUN_CHART_BUCKET_MS;
    const list = byBucket.get(at) ?? [];
    list.push(Math.max(0, run.completedAt - run.submittedAt));
    byBucket.set(at, list);
  }
  const buckets = [...byBucket]
    .sort(([a], [b]) => a - b)
    .map(([at, durations]) => {
      durations.sort((a, b) => a - b);
      return { at, completed: durations.length, p50Ms: percentile(durations, 0.5), p95Ms: percentile(durations, 0.95) };
    });
  return {
    counts,
    completionRate: waited === 0 ? null : counts.completed / waited,
    chart: { since, until: since + RUN_CHART_BUCKETS * RUN_CHART_BUCKET_MS, bucketMs: RUN_CHART_BUCKET_MS, buckets },
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
