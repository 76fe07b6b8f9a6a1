import type { KeyObject } from 'node:crypto';
import { standardWebhooksKey } from '../../ingress/verify/standard-webhooks.js';
import { hmacSha256 } from '../../ingress/verify/verifier.js';
import type { DeliverySigner } from './signer.js';

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the base64 after `whsec_`. */
export function createDeliverySigner(secret: string): (id: string, timestampSeconds: number, body: Buffer) => string {
  const key: KeyObject = standardWebhooksKey(secret);
  return (id, timestampSeconds, body) => `v1,${hmacSha256(key, [`${id}.${timestampSeconds}.`, body]).toString('base64')}`;
}

/** Standard Webhooks: `webhook-signature` over the `webhook-id` and `webhook-timestamp` every delivery carries. */
export function standardWebhooksSigner(secret: string): DeliverySigner {
  const sign = createDeliverySigner(secret);
  return ({ eventId, timestampSeconds, body }) => ({ 'webhook-signature': sign(eventId, timestampSeconds, body) });
}
