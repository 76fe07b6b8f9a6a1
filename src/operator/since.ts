import { parseDurationMs } from '../config/duration.js';
import { HookrelayError } from '../errors.js';

/**
 * Reads a `--since` value: a duration back from now (`"90m"`, `"12h"`, `"2d"`, or ms) or an
 * ISO-8601 instant (`2026-11-21T22:00:00Z`). Returns unix ms; a bad value is a usage error.
 */
export function parseSince(value: string | number, now: number): number {
  const duration = parseDurationMs(value);
  if (duration !== undefined) return now - duration;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
    const at = Date.parse(value);
    if (Number.isFinite(at)) return at;
  }
  throw new HookrelayError(
    'HOOKRELAY_USAGE',
    `--since: expected a duration like "30m", "12h", "2d" or an ISO-8601 time, got "${String(value)}"`,
  );
}
