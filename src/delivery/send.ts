import { Pool, errors as undiciErrors } from 'undici';
import type { DestinationConfig } from '../config/load.js';
import type { ClaimedDelivery } from '../glossary.js';
import type { SendResult } from './outcome.js';
import { parseRetryAfterMs } from './retry-after.js';
import { createSigner } from './sign.js';

/** How much of a response body is kept in the attempt log. */
export const RESPONSE_SNIPPET_BYTES = 1024;
/**
 * Most response body read before the attempt counts as answered: a longer body is cut off
 * (its connection closed) and the status decides. Only the snippet is kept in memory.
 */
export const RESPONSE_READ_LIMIT_BYTES = 64 * 1024;

const USER_AGENT = 'hookrelay/0.1';

export interface Sender {
  /** Sends one attempt; never throws: network errors and timeouts become `{kind: 'error'}`. */
  send(delivery: ClaimedDelivery, attemptNumber: number): Promise<SendResult>;
  /** Closes the pool, aborting requests still running (called after the shutdown grace). */
  close(): Promise<void>;
}

/**
 * One keep-alive connection pool per destination, sized to its concurrency. The whole
 * attempt (connect, headers, reading the response body to its end or to
 * RESPONSE_READ_LIMIT_BYTES) is bounded by `timeoutMs`: a body still arriving at the
 * deadline, or cut short, makes the attempt fail even after a 2xx status.
 */
export function createSender(destination: DestinationConfig): Sender {
  const url = new URL(destination.url);
  const path = `${url.pathname}${url.search}`;
  const authorization = basicAuthorization(url);
  const pool = new Pool(url.origin, {
    connections: destination.concurrency,
    pipelining: 1,
    keepAliveTimeout: 4_000,
    connect: { timeout: Math.min(destination.timeoutMs, 10_000) },
    headersTimeout: destination.timeoutMs,
    bodyTimeout: destination.timeoutMs,
  });
  const sign = createSigner(destination);
  const configured = Object.entries(destination.headers);

  return {
    async send(delivery, attemptNumber) {
      const startedAt = performance.now();
      const timestamp = Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = {};
      // Credentials in the URL are sent as Basic auth unless the destination sets Authorization itself.
      if (authorization) headers.authorization = authorization;
      for (const [name, value] of configured) headers[name.toLowerCase()] = value;
      headers['content-type'] = delivery.contentType;
      if (delivery.contentEncoding) headers['content-encoding'] = delivery.contentEncoding;
      headers['user-agent'] = USER_AGENT;
      headers['webhook-id'] = delivery.eventId;
      headers['webhook-timestamp'] = String(timestamp);
      if (sign) Object.assign(headers, sign({ eventId: delivery.eventId, requestId: delivery.requestId ?? null, timestampSeconds: timestamp, body: delivery.body }));
      headers['hookrelay-attempt'] = String(attemptNumber);
      headers['hookrelay-source'] = delivery.source;
      if (delivery.runMetadata) headers['hookrelay-run-metadata'] = delivery.runMetadata;
      if (delivery.fallbackFor) headers['hookrelay-fallback-for'] = delivery.fallbackFor;

      const signal = AbortSignal.timeout(destination.timeoutMs);
      try {
        const response = await pool.request({ path, method: 'POST', headers, body: delivery.body, signal });
        const snippet = await readResponseBody(response.body, signal);
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

/**
 * Reads the response body to its end (or to RESPONSE_READ_LIMIT_BYTES) and returns its first
 * RESPONSE_SNIPPET_BYTES; the rest is dropped as it arrives. Rejects when the attempt's
 * deadline passes first or the body breaks off: the receiver's answer is then incomplete.
 */
async function readResponseBody(body: AsyncIterable<Buffer> & { destroy(error?: Error): unknown }, signal: AbortSignal): Promise<string | null> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let read = 0;
  const abort = () => body.destroy(signal.reason as Error);
  signal.addEventListener('abort', abort, { once: true });
  try {
    signal.throwIfAborted();
    for await (const chunk of body) {
      if (kept < RESPONSE_SNIPPET_BYTES) {
        chunks.push(chunk);
        kept += chunk.length;
      }
      read += chunk.length;
      if (read >= RESPONSE_READ_LIMIT_BYTES) break;
    }
  } finally {
    signal.removeEventListener('abort', abort);
    body.destroy();
  }
  if (kept === 0) return null;
  return Buffer.concat(chunks, kept).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8');
}

/**
 * `Basic` credentials from a URL's user info, percent-decoded (as browsers send them), or
 * null when the URL has none. The pool connects to the origin, which carries no credentials.
 */
export function basicAuthorization(url: URL): string | null {
  if (url.username === '' && url.password === '') return null;
  return `Basic ${Buffer.from(`${percentDecode(url.username)}:${percentDecode(url.password)}`, 'utf8').toString('base64')}`;
}

function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // A stray "%" that starts no escape is sent as written.
    return value;
  }
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
