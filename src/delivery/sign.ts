import type { KeyObject } from 'node:crypto';
import { standardWebhooksKey } from '../ingress/verify/standard-webhooks.js';
import { hmacSha256 } from '../ingress/verify/verifier.js';

/** Signs deliveries the Standard Webhooks way: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function createDeliverySigner(secret: string): (id: string, timestampSeconds: number, body: Buffer) => string {
  const key: KeyObject = standardWebhooksKey(secret);
  return (id, timestampSeconds, body) => `v1,${hmacSha256(key, [`${id}.${timestampSeconds}.`, body]).toString('base64')}`;
}
