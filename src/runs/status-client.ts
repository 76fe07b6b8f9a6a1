import { request } from 'undici';
import type { Run } from '../glossary.js';
import { parseRetryAfterMs } from '../delivery/retry-after.js';
import { classifyStatusAnswer, type StatusAnswer } from './run-status.js';

/** Largest status answer read; Cerebrium's is a few hundred bytes. */
const MAX_ANSWER_BYTES = 256 * 1024;

export interface StatusClientOptions {
  /** `runs.status.url` with `{run_id}`, `{project}`, `{app}` placeholders. */
  url: string;
  token: string;
  /** The whole request: connect, headers and body. */
  timeoutMs: number;
}

export interface StatusClient {
  /** Never throws: a failure is `{kind: 'unknown'}`. `signal` cuts the request short (shutdown). */
  check(run: Run, signal?: AbortSignal): Promise<StatusAnswer>;
}

/** The URL of one run's status: placeholders filled, each value percent-encoded. */
export function statusUrlOf(template: string, run: Pick<Run, 'runId' | 'project' | 'app'>): string {
  return template
    .replaceAll('{run_id}', encodeURIComponent(run.runId))
    .replaceAll('{project}', encodeURIComponent(run.project ?? ''))
    .replaceAll('{app}', encodeURIComponent(run.app ?? ''));
}

/** Asks Cerebrium's REST API about one run with the service-account token. */
export function createStatusClient({ url, token, timeoutMs }: StatusClientOptions): StatusClient {
  return {
    async check(run, signal) {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const response = await request(statusUrlOf(url, run), {
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'hookrelay/0.1' },
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const text = await readLimited(response.body, MAX_ANSWER_BYTES);
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        const retryAfter = response.headers['retry-after'];
        return classifyStatusAnswer(response.statusCode, json, parseRetryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now()));
      } catch (error) {
        const err = error as { name?: string; code?: string; message?: string };
        const reason = err?.name === 'TimeoutError' || err?.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : (err?.code ?? err?.message ?? 'request failed');
        return { kind: 'unknown', reason, throttled: true };
      }
    },
  };
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) return '';
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}
