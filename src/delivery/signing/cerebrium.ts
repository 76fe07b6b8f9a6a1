import { createSecretKey } from 'node:crypto';
import { hmacSha256 } from '../../ingress/verify/verifier.js';
import type { DeliverySigner } from './signer.js';

/**
 * Cerebrium's own scheme, so a receiver written to verify Cerebrium works unchanged behind the
 * relay: `X-Request-Id` = the callback's (else the event id), `X-Cerebrium-Webhook-Timestamp` =
 * the attempt's unix seconds, `X-Cerebrium-Webhook-Signature: v1,<hex>` = HMAC-SHA256 over
 * `<X-Request-Id>.<timestamp>.<body>` keyed with the secret's UTF-8 bytes (verified by
 * src/ingress/verify/cerebrium.ts).
 */
export function cerebriumSigner(secret: string): DeliverySigner {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return ({ eventId, requestId, timestampSeconds, body }) => {
    const id = requestId ?? eventId;
    return {
      'x-request-id': id,
      'x-cerebrium-webhook-timestamp': String(timestampSeconds),
      'x-cerebrium-webhook-signature': `v1,${hmacSha256(key, [`${id}.${timestampSeconds}.`, body]).toString('hex')}`,
    };
  };
}
