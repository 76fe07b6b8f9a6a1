import { randomBytes } from 'node:crypto';
import type { Config, SourceConfig } from '../config/load.js';
import { HookrelayError } from '../errors.js';
import * as cerebrium from '../signatures/cerebrium.js';
import * as hmacSha256 from '../signatures/hmac-sha256.js';
import * as standardWebhooks from '../signatures/standard-webhooks.js';

export interface TestCallback {
  headers: Record<string, string>;
  body: Buffer;
}

/** A sample result shaped like a Cerebrium async-run callback, with a fresh run_id so it is never a duplicate. */
export function sampleBody(now: number): Buffer {
  const runId = `hookrelay-test-${randomBytes(6).toString('hex')}`;
  return Buffer.from(
    JSON.stringify({
      run_id: runId,
      status: 'success',
      created_at: new Date(now).toISOString(),
      result: { message: 'hookrelay send-test: if a destination received this, the relay works' },
    }),
  );
}

/**
 * Signs `body` the way the source expects, with the source's first secret: exactly what a
 * real producer would send (so a 401 means the secret or scheme does not match the producer).
 */
export function signTestCallback(source: SourceConfig, body: Buffer, contentType: string, now: number): TestCallback {
  const headers: Record<string, string> = { 'content-type': contentType };
  const secret = source.verify.secrets[0];
  const timestampSeconds = Math.floor(now / 1000);
  const requestId = `hookrelay-test-${randomBytes(8).toString('hex')}`;
  switch (source.verify.scheme) {
    case 'none':
      headers['x-request-id'] = requestId;
      break;
    case 'cerebrium':
      Object.assign(headers, cerebrium.sign(cerebrium.key(secret!), { id: requestId, timestampSeconds, body }));
      break;
    case 'standard-webhooks':
      Object.assign(headers, standardWebhooks.sign(standardWebhooks.key(secret!), { id: `msg_${requestId}`, timestampSeconds, body }));
      break;
    case 'hmac-sha256':
      headers['x-request-id'] = requestId;
      Object.assign(headers, hmacSha256.sign(hmacSha256.key(secret!), body, source.verify.header.toLowerCase()));
      break;
  }
  return { headers, body };
}

/** The URL of the source's path on the public listener, as this config would bind it. */
export function sourceUrl(config: Config, source: SourceConfig, baseUrl?: string): string {
  if (baseUrl !== undefined) {
    let base: URL;
    try {
      base = new URL(baseUrl);
    } catch {
      throw new HookrelayError('HOOKRELAY_USAGE', `--url: not a URL: "${baseUrl}"`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new HookrelayError('HOOKRELAY_USAGE', '--url must be http(s)');
    // A bare origin gets the source's path; a URL with a path is used as given.
    return base.pathname === '/' ? new URL(source.path, base).toString() : base.toString();
  }
  const { host, port } = config.server;
  if (port === 0) {
    throw new HookrelayError('HOOKRELAY_USAGE', 'server.port is 0 (picked at start-up): pass --url with the port serve logged');
  }
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const authority = reachable.includes(':') ? `[${reachable}]:${port}` : `${reachable}:${port}`;
  return `http://${authority}${source.path}`;
}

export function findSource(config: Config, name: string): SourceConfig {
  const source = config.sources.find((candidate) => candidate.name === name);
  if (!source) {
    throw new HookrelayError(
      'HOOKRELAY_UNKNOWN_SOURCE',
      `unknown source "${name}" (configured: ${config.sources.map((candidate) => candidate.name).join(', ')})`,
    );
  }
  return source;
}
