import { cerebriumRequest } from './signed-request.js';
import { sleep } from './wait.js';
import { callOnce, type CallResult } from './http-call.js';

/**
 * A sender that behaves like Cerebrium's async-run webhook: it POSTs each result at most
 * `attempts` times in all, `retryDelayMs` apart (4 s: "a few seconds", <= 5 s), retrying only a refused
 * connection, a timeout or a 404 — never a 5xx, never another 4xx, never a reset.
 */
export interface ResultOutcome {
  runId: string;
  /** 2xx (202 new, 200 duplicate) on some attempt. */
  acknowledged: boolean;
  /** What each attempt met: a status, 'refused', 'timeout' or 'reset:<code>'. */
  attempts: string[];
}

export interface CerebriumSender {
  outcomes: ResultOutcome[];
  stop(): Promise<void>;
}

export interface SenderPolicy {
  attempts?: number;
  /** Between attempts: a fixed delay, or one drawn per retry. */
  retryDelayMs?: number | (() => number);
  timeoutMs?: number;
  /**
   * Also retry a connection closed or reset without an answer and a 3xx, as Cerebrium's
   * documentation reads ("network errors"). Off: only refused, timeout and 404 (the strictest
   * reading, under which a reset loses the result).
   */
  retryNetworkErrors?: boolean;
}

/** Cerebrium as documented: 3 attempts, 1-5 s apart, network errors (resets included), timeouts, 404 and 3xx retried. */
export const CEREBRIUM_FAITHFUL: SenderPolicy = {
  attempts: 3,
  retryDelayMs: () => 1_000 + Math.floor(Math.random() * 4_001),
  retryNetworkErrors: true,
};

const retried = (result: CallResult, networkErrors: boolean) =>
  result.kind === 'refused' ||
  result.kind === 'timeout' ||
  (networkErrors && result.kind === 'reset') ||
  (result.kind === 'response' && (result.status === 404 || (networkErrors && result.status >= 300 && result.status < 400)));

export async function sendLikeCerebrium(
  url: string,
  secret: string,
  runId: string,
  { attempts = 3, retryDelayMs = 4_000, timeoutMs = 5_000, retryNetworkErrors = false }: SenderPolicy = {},
): Promise<ResultOutcome> {
  const body = JSON.stringify({ run_id: runId, status: 'success', result: { text: `result of ${runId}` } });
  const requestId = `req-${runId}`;
  const seen: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const signed = cerebriumRequest({ secret, body, requestId });
    const result = await callOnce(url, signed.headers, signed.body, timeoutMs);
    seen.push(result.kind === 'response' ? String(result.status) : result.kind === 'reset' ? `reset:${result.code}` : result.kind);
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) return { runId, acknowledged: true, attempts: seen };
    if (!retried(result, retryNetworkErrors) || attempt === attempts) break;
    await sleep(typeof retryDelayMs === 'number' ? retryDelayMs : retryDelayMs());
  }
  return { runId, acknowledged: false, attempts: seen };
}

/** `concurrency` streams of results, each sending its next result as soon as the last one is settled. */
export function startCerebriumSender(
  url: string,
  secret: string,
  { concurrency, runPrefix, pauseMs = 100, policy }: { concurrency: number; runPrefix: string; pauseMs?: number; policy?: SenderPolicy },
): CerebriumSender {
  const outcomes: ResultOutcome[] = [];
  let running = true;
  let counter = 0;
  const streams = Array.from({ length: concurrency }, async () => {
    while (running) {
      outcomes.push(await sendLikeCerebrium(url, secret, `${runPrefix}-${++counter}`, policy));
      await sleep(pauseMs);
    }
  });
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(streams);
    },
  };
}
