import type { AttemptOutcome } from '../glossary.js';

/** What one HTTP attempt produced: a status, or a network error / timeout code. */
export type SendResult =
  | { kind: 'response'; status: number; retryAfterMs?: number; snippet: string | null; durationMs: number }
  | { kind: 'error'; code: string; message: string; durationMs: number };

export interface Verdict {
  outcome: AttemptOutcome;
  /** Whether this failure counts towards opening the destination's circuit. */
  tripsBreaker: boolean;
  /** Whether a `Retry-After` on this response is honoured. */
  honoursRetryAfter: boolean;
}

interface PolicyRow {
  /** Human description, shown in docs and test names. */
  when: string;
  matches: (result: SendResult) => boolean;
  verdict: Verdict;
}

const status = (result: SendResult) => (result.kind === 'response' ? result.status : -1);

/**
 * The outcome policy, one row per case, first match wins. This table is the only place
 * that decides what is delivered, what is retried, and what trips a breaker.
 */
export const OUTCOME_POLICY: readonly PolicyRow[] = [
  { when: '2xx', matches: (r) => status(r) >= 200 && status(r) < 300, verdict: { outcome: 'delivered', tripsBreaker: false, honoursRetryAfter: false } },
  { when: '408 Request Timeout', matches: (r) => status(r) === 408, verdict: { outcome: 'failed', tripsBreaker: true, honoursRetryAfter: false } },
  { when: '429 Too Many Requests', matches: (r) => status(r) === 429, verdict: { outcome: 'failed', tripsBreaker: true, honoursRetryAfter: true } },
  { when: '503 Service Unavailable', matches: (r) => status(r) === 503, verdict: { outcome: 'failed', tripsBreaker: true, honoursRetryAfter: true } },
  { when: '5xx', matches: (r) => status(r) >= 500, verdict: { outcome: 'failed', tripsBreaker: true, honoursRetryAfter: false } },
  { when: '4xx (receiver rejects the request)', matches: (r) => status(r) >= 400, verdict: { outcome: 'failed', tripsBreaker: false, honoursRetryAfter: false } },
  { when: '1xx/3xx (redirects are not followed)', matches: (r) => r.kind === 'response', verdict: { outcome: 'failed', tripsBreaker: false, honoursRetryAfter: false } },
  { when: 'timeout, connection or DNS error', matches: (r) => r.kind === 'error', verdict: { outcome: 'failed', tripsBreaker: true, honoursRetryAfter: false } },
];

export function classify(result: SendResult): Verdict {
  for (const row of OUTCOME_POLICY) if (row.matches(result)) return row.verdict;
  throw new Error('outcome policy has no row for this result');
}
