import { cerebriumRequest } from '../../helpers/signed-request.js';
import { sleep } from '../../helpers/wait.js';
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

const RETRIED = (result: CallResult) =>
  result.kind === 'refused' || result.kind === 'timeout' || (result.kind === 'response' && result.status === 404);

export async function sendLikeCerebrium(
  url: string,
  secret: string,
  runId: string,
  { attempts = 3, retryDelayMs = 4_000, timeoutMs = 5_000 }: { attempts?: number; retryDelayMs?: number; timeoutMs?: number } = {},
): Promise<ResultOutcome> {
  const body = JSON.stringify({ run_id: runId, status: 'success', result: { text: `result of ${runId}` } });
  const requestId = `req-${runId}`;
  const seen: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const signed = cerebriumRequest({ secret, body, requestId });
    const result = await callOnce(url, signed.headers, signed.body, timeoutMs);
    seen.push(result.kind === 'response' ? String(result.status) : result.kind === 'reset' ? `reset:${result.code}` : result.kind);
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) return { runId, acknowledged: true, attempts: seen };
    if (!RETRIED(result) || attempt === attempts) break;
    await sleep(retryDelayMs);
  }
  return { runId, acknowledged: false, attempts: seen };
}

/** `concurrency` streams of results, each sending its next result as soon as the last one is settled. */
export function startCerebriumSender(
  url: string,
  secret: string,
  { concurrency, runPrefix, pauseMs = 100 }: { concurrency: number; runPrefix: string; pauseMs?: number },
): CerebriumSender {
  const outcomes: ResultOutcome[] = [];
  let running = true;
  let counter = 0;
  const streams = Array.from({ length: concurrency }, async () => {
    while (running) {
      outcomes.push(await sendLikeCerebrium(url, secret, `${runPrefix}-${++counter}`));
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
