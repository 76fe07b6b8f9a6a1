const SECONDS = /^\s*(\d+)\s*$/;
/** RFC 9110 HTTP-date forms all begin with a day name (IMF-fixdate, RFC 850, asctime). */
const HTTP_DATE = /^\s*(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s/i;

/**
 * Parses a `Retry-After` header (delay in seconds, or an HTTP date) into milliseconds from
 * `nowMs`; undefined when absent or unparseable. A date in the past is 0.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = SECONDS.exec(value);
  if (seconds) {
    const ms = Number(seconds[1]) * 1000;
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  if (!HTTP_DATE.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
