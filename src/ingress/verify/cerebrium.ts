import { createSecretKey } from 'node:crypto';
import { HookrelayError } from '../../errors.js';
import {
  checkTimestamp, decodeHex, digestsEqual, hmacSha256, MAX_SIGNATURE_HEADER_LENGTH, requireHeader, type Verifier,
} from './verifier.js';

/**
 * Cerebrium: `X-Cerebrium-Webhook-Signature: v1,<hex>` = HMAC-SHA256 over
 * `<X-Request-Id>.<X-Cerebrium-Webhook-Timestamp>.<raw body>`, key = the secret's UTF-8 bytes.
 * Several space-separated `v1,<hex>` entries are accepted (any match passes).
 */
export function cerebriumVerifier(secrets: readonly string[], toleranceMs: number): Verifier {
  const keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  return (headers, body, nowMs) => {
    const requestId = requireHeader(headers, 'x-request-id');
    const timestamp = requireHeader(headers, 'x-cerebrium-webhook-timestamp');
    const signature = requireHeader(headers, 'x-cerebrium-webhook-signature');
    if (signature.length > MAX_SIGNATURE_HEADER_LENGTH) {
      throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', 'x-cerebrium-webhook-signature is too long');
    }
    const provided = parseV1Hex(signature);
    checkTimestamp(timestamp, 'x-cerebrium-webhook-timestamp', toleranceMs, nowMs);
    const prefix = `${requestId}.${timestamp}.`;
    for (const key of keys) {
      const expected = hmacSha256(key, [prefix, body]);
      if (provided.some((candidate) => digestsEqual(expected, candidate))) return;
    }
    throw new HookrelayError('HOOKRELAY_SIGNATURE_INVALID', 'signature does not match');
  };
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
