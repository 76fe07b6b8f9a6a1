/**
 * What a Cerebrium status answer means for an overdue run. Pure: table-driven tests in
 * test/unit/run-status.test.ts.
 */

/** Statuses of a run that may still call back; anything else means it ended without a callback. */
export const STILL_RUNNING = ['pending', 'queued', 'running', 'in_progress', 'processing', 'initializing'] as const;

export type StatusAnswer =
  /** The run may still call back: check again later. */
  | { kind: 'running'; status: string }
  /** Cerebrium says it ended: the callback will never come. */
  | { kind: 'finished'; status: string }
  /** No verdict (network error, timeout, 429, 5xx, unexpected answer): try later; `throttled` asks the checker to back off. */
  | { kind: 'unknown'; reason: string; throttled: boolean; retryAfterMs?: number };

/** Reads `item.status` or `status` of the status URL's JSON, case-insensitively. */
export function statusOf(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const record = json as { item?: unknown; status?: unknown };
  const item = record.item as { status?: unknown } | undefined;
  const status = item && typeof item === 'object' && typeof item.status === 'string' ? item.status : record.status;
  return typeof status === 'string' && status.trim() !== '' ? status.trim() : undefined;
}

/** Decides from an HTTP answer of the status URL. */
export function classifyStatusAnswer(httpStatus: number, json: unknown, retryAfterMs?: number): StatusAnswer {
  if (httpStatus === 429 || httpStatus >= 500) {
    return { kind: 'unknown', reason: `HTTP ${httpStatus}`, throttled: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  if (httpStatus < 200 || httpStatus >= 300) return { kind: 'unknown', reason: `HTTP ${httpStatus}`, throttled: false };
  const status = statusOf(json);
  if (status === undefined) return { kind: 'unknown', reason: 'no status in the answer', throttled: false };
  return (STILL_RUNNING as readonly string[]).includes(status.toLowerCase()) ? { kind: 'running', status } : { kind: 'finished', status };
}
