import { request } from 'undici';
import type { Config } from '../config/load.js';
import { HookrelayError } from '../errors.js';
import { findSource, sampleBody, signTestCallback, sourceUrl } from './test-callback.js';

export interface SendTestRequest {
  source: string;
  /** The body to send; default: a sample Cerebrium-style result with a fresh run_id. */
  body?: Buffer;
  /** The relay's base URL (or a full URL); default: from `server.host`/`server.port`. */
  url?: string;
  timeoutMs?: number;
  now?: number;
}

export interface SendTestResult {
  url: string;
  status: number;
  /** The relay's answer, parsed when it is JSON. */
  answer: unknown;
}

/**
 * Sends one correctly signed callback to the running relay, as the source's producer would,
 * and returns the relay's answer: how a new user checks a setup before wiring the producer.
 * Needs only the config (not the database): it talks to the relay over HTTP.
 */
export async function sendTestCallback(config: Config, test: SendTestRequest): Promise<SendTestResult> {
  const source = findSource(config, test.source);
  const now = test.now ?? Date.now();
  const body = test.body ?? sampleBody(now);
  const contentType = looksLikeJson(body) ? 'application/json' : 'application/octet-stream';
  const signed = signTestCallback(source, body, contentType, now);
  const url = sourceUrl(config, source, test.url);
  const timeoutMs = test.timeoutMs ?? 15_000;
  let response;
  try {
    response = await request(url, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    throw new HookrelayError('HOOKRELAY_RELAY_UNREACHABLE', `cannot reach the relay at ${url}: ${code} (is serve running?)`, {
      cause: error,
    });
  }
  const text = await response.body.text();
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = text;
  }
  return { url, status: response.statusCode, answer };
}

function looksLikeJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
