const SECONDS = /^\s*(\d+)\s*$/;

/**
 * Parses a `Retry-After` header (delay in seconds, or an HTTP date) into milliseconds from
 * `nowMs`; undefined when absent or unparseable. A date in the past is 0.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = SECONDS.exec(value);
  if (seconds) return Number(seconds[1]) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
