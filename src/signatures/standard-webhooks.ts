import { createSecretKey, type KeyObject } from 'node:crypto';
import { HookrelayError } from '../errors.js';
import { checkTimestamp, MAX_SIGNATURE_HEADER_LENGTH, requireHeader, type IncomingHeaders } from './headers.js';
import { digestsEqual, hmacSha256, type SignedMessage } from './hmac.js';

/*
 * Standard Webhooks: `webhook-signature` is a space-separated list of `v1,<base64>`, each an
 * HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64-decode
 * of the secret after its `whsec_` prefix (what the `standardwebhooks` npm package signs).
 */

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The signing key of a Standard Webhooks secret: base64-decode of what follows `whsec_`. */
export function key(secret: string): KeyObject {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return createSecretKey(Buffer.from(encoded, 'base64'));
}

/** The three headers a Standard Webhooks request carries (lower-case names). */
export function sign(signingKey: KeyObject, { id, timestampSeconds, body }: SignedMessage): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${hmacSha256(signingKey, [`${id}.${timestampSeconds}.`, body]).toString('base64')}`,
  };
}

/**
 * Passes when a `v1` entry matches under any of `keys` and the timestamp is within `toleranceMs`
 * of `nowMs`; else throws HOOKRELAY_SIGNATURE_MISSING / _MALFORMED / _INVALID or HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW.
 */
export function verify(keys: readonly KeyObject[], headers: IncomingHeaders, body: Buffer, nowMs: number, toleranceMs: number): void {
  const id = requireHeader(headers, 'webhook-id');
  const timestamp = requireHeader(headers, 'webhook-timestamp');
  const signature = requireHeader(headers, 'webhook-signature');
  if (signature.length > MAX_SIGNATURE_HEADER_LENGTH) {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'webhook-signature is too long');
  }
  const provided = parseSignatures(signature);
  checkTimestamp(timestamp, 'webhook-timestamp', toleranceMs, nowMs);
  const prefix = `${id}.${timestamp}.`;
  for (const candidateKey of keys) {
    const expected = hmacSha256(candidateKey, [prefix, body]);
    if (provided.some((candidate) => digestsEqual(expected, candidate))) return;
  }
  throw new HookrelayError('HOOKRELAY_SIGNATURE_INVALID', 'signature does not match');
}

function parseSignatures(header: string): Buffer[] {
  const digests: Buffer[] = [];
  for (const entry of header.trim().split(/\s+/)) {
    const comma = entry.indexOf(',');
    if (comma < 0) throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'webhook-signature entries must be "v1,<base64>"');
    if (entry.slice(0, comma) !== 'v1') continue; // other versions (e.g. v1a) are not ours to check
    const encoded = entry.slice(comma + 1);
    if (!BASE64.test(encoded)) throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'webhook-signature is not base64');
    digests.push(Buffer.from(encoded, 'base64'));
  }
  if (digests.length === 0) throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'webhook-signature has no v1 entry');
  return digests;
}
