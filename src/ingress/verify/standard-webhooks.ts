import { createSecretKey, type KeyObject } from 'node:crypto';
import { HookrelayError } from '../../errors.js';
import {
  checkTimestamp, digestsEqual, hmacSha256, MAX_SIGNATURE_HEADER_LENGTH, requireHeader, type Verifier,
} from './verifier.js';

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The signing key of a Standard Webhooks secret: base64-decode of what follows `whsec_`. */
export function standardWebhooksKey(secret: string): KeyObject {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return createSecretKey(Buffer.from(encoded, 'base64'));
}

/**
 * Standard Webhooks: `webhook-signature` is a space-separated list of `v1,<base64>`, each an
 * HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`.
 */
export function standardWebhooksVerifier(secrets: readonly string[], toleranceMs: number): Verifier {
  const keys = secrets.map(standardWebhooksKey);
  return (headers, body, nowMs) => {
    const id = requireHeader(headers, 'webhook-id');
    const timestamp = requireHeader(headers, 'webhook-timestamp');
    const signature = requireHeader(headers, 'webhook-signature');
    if (signature.length > MAX_SIGNATURE_HEADER_LENGTH) {
      throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'webhook-signature is too long');
    }
    const provided = parseSignatures(signature);
    checkTimestamp(timestamp, 'webhook-timestamp', toleranceMs, nowMs);
    const prefix = `${id}.${timestamp}.`;
    for (const key of keys) {
      const expected = hmacSha256(key, [prefix, body]);
      if (provided.some((candidate) => digestsEqual(expected, candidate))) return;
    }
    throw new HookrelayError('HOOKRELAY_SIGNATURE_INVALID', 'signature does not match');
  };
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
