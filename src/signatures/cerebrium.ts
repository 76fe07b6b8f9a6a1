import type { KeyObject } from 'node:crypto';
import { HookrelayError } from '../errors.js';
import { checkTimestamp, MAX_SIGNATURE_HEADER_LENGTH, requireHeader, type IncomingHeaders } from './headers.js';
import { decodeHex, digestsEqual, hmacSha256, utf8Key, type SignedMessage } from './hmac.js';

/*
 * Cerebrium: `X-Cerebrium-Webhook-Signature: v1,<hex>` = HMAC-SHA256 over
 * `<X-Request-Id>.<X-Cerebrium-Webhook-Timestamp>.<raw body>`, key = the secret's UTF-8 bytes.
 * Several space-separated `v1,<hex>` entries are accepted (any match passes).
 */

/** The signing key of a Cerebrium secret: its UTF-8 bytes. */
export function key(secret: string): KeyObject {
  return utf8Key(secret);
}

/** The three headers a Cerebrium-signed request carries (lower-case names). */
export function sign(signingKey: KeyObject, { id, timestampSeconds, body }: SignedMessage): Record<string, string> {
  return {
    'x-request-id': id,
    'x-cerebrium-webhook-timestamp': String(timestampSeconds),
    'x-cerebrium-webhook-signature': `v1,${hmacSha256(signingKey, [`${id}.${timestampSeconds}.`, body]).toString('hex')}`,
  };
}

/**
 * Passes when a `v1` entry matches under any of `keys` and the timestamp is within `toleranceMs`
 * of `nowMs`; else throws HOOKRELAY_SIGNATURE_MISSING / _MALFORMED / _INVALID or HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW.
 */
export function verify(keys: readonly KeyObject[], headers: IncomingHeaders, body: Buffer, nowMs: number, toleranceMs: number): void {
  const requestId = requireHeader(headers, 'x-request-id');
  const timestamp = requireHeader(headers, 'x-cerebrium-webhook-timestamp');
  const signature = requireHeader(headers, 'x-cerebrium-webhook-signature');
  if (signature.length > MAX_SIGNATURE_HEADER_LENGTH) {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'x-cerebrium-webhook-signature is too long');
  }
  const provided = parseV1Hex(signature);
  checkTimestamp(timestamp, 'x-cerebrium-webhook-timestamp', toleranceMs, nowMs);
  const prefix = `${requestId}.${timestamp}.`;
  for (const candidateKey of keys) {
    const expected = hmacSha256(candidateKey, [prefix, body]);
    if (provided.some((candidate) => digestsEqual(expected, candidate))) return;
  }
  throw new HookrelayError('HOOKRELAY_SIGNATURE_INVALID', 'signature does not match');
}

function parseV1Hex(header: string): Buffer[] {
  const entries = header.trim().split(/\s+/);
  const digests: Buffer[] = [];
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    if (comma < 0) throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'x-cerebrium-webhook-signature must be "v1,<hex>"');
    if (entry.slice(0, comma) !== 'v1') continue;
    digests.push(decodeHex(entry.slice(comma + 1), 'x-cerebrium-webhook-signature'));
  }
  if (digests.length === 0) throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'x-cerebrium-webhook-signature has no v1 entry');
  return digests;
}
