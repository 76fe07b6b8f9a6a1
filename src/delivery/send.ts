import { Pool, errors as undiciErrors } from 'undici';
import type { DestinationConfig } from '../config/load.js';
import type { ClaimedDelivery } from '../glossary.js';
import type { SendResult } from './outcome.js';
import { parseRetryAfterMs } from './retry-after.js';
import { createDeliverySigner } from './sign.js';

/** How much of a response body is kept in the attempt log. */
export const RESPONSE_SNIPPET_BYTES = 1024;

const USER_AGENT = 'hookrelay/0.1';

export interface Sender {
  /** Sends one attempt; never throws: network errors and timeouts become `{kind: 'error'}`. */
  send(delivery: ClaimedDelivery, attemptNumber: number): Promise<SendResult>;
  /** Closes the pool, aborting requests still running (called after the shutdown grace). */
  close(): Promise<void>;
}

/**
 * One keep-alive connection pool per destination, sized to its concurrency. The whole
 * attempt (connect, headers, reading the snippet) is bounded by `timeoutMs`.
 */
export function createSender(destination: DestinationConfig): Sender {
  const url = new URL(destination.url);
  const path = `${url.pathname}${url.search}`;
  const pool = new Pool(url.origin, {
    connections: destination.concurrency,
    pipelining: 1,
    keepAliveTimeout: 4_000,
    connect: { timeout: Math.min(destination.timeoutMs, 10_000) },
    headersTimeout: destination.timeoutMs,
    bodyTimeout: destination.timeoutMs,
  });
  const sign = destination.signingSecret ? createDeliverySigner(destination.signingSecret) : null;
  const configured = Object.entries(destination.headers);

  return {
    async send(delivery, attemptNumber) {
      const startedAt = performance.now();
      const timestamp = Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = {};
      for (const [name, value] of configured) headers[name.toLowerCase()] = value;
      headers['content-type'] = delivery.contentType;
      headers['user-agent'] = USER_AGENT;
      headers['webhook-id'] = delivery.eventId;
      headers['webhook-timestamp'] = String(timestamp);
      if (sign) headers['webhook-signature'] = sign(delivery.eventId, timestamp, delivery.body);
      headers['hookrelay-attempt'] = String(attemptNumber);
      headers['hookrelay-source'] = delivery.source;
      if (delivery.runMetadata) headers['hookrelay-run-metadata'] = delivery.runMetadata;

      const signal = AbortSignal.timeout(destination.timeoutMs);
      try {
        const response = await pool.request({ path, method: 'POST', headers, body: delivery.body, signal });
        const snippet = await readSnippet(response.body);
        const retryAfter = response.headers['retry-after'];
        const retryAfterMs = parseRetryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now());
        return {
          kind: 'response',
          status: response.statusCode,
          snippet,
          durationMs: performance.now() - startedAt,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      } catch (error) {
        return { kind: 'error', ...describeError(error, destination.timeoutMs), durationMs: performance.now() - startedAt };
      }
    },
    close: () => pool.destroy(),
  };
}

/** Reads at most RESPONSE_SNIPPET_BYTES, then drops the rest without buffering it. */
async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_SNIPPET_BYTES) break;
    }
  } catch {
    // The status is what decides the outcome; a body cut short only shortens the snippet.
  } finally {
    body.destroy();
  }
  if (size === 0) return null;
  return Buffer.concat(chunks, size).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8');
}

/** A stable code for every way an attempt can fail without a response. */
export function describeError(error: unknown, timeoutMs: number): { code: string; message: string } {
  const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError' || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return { code: 'TIMEOUT', message: `no complete response within ${timeoutMs} ms` };
  }
  const code = err?.code ?? err?.cause?.code ?? 'UNKNOWN';
  const message = err?.message ?? err?.cause?.message ?? String(error);
  return { code, message };
}
