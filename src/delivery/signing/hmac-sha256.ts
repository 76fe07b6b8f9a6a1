import { createSecretKey } from 'node:crypto';
import { hmacSha256 } from '../../ingress/verify/verifier.js';
import type { DeliverySigner } from './signer.js';

/** The header GitHub-style receivers read when none is configured. */
export const DEFAULT_HMAC_HEADER = 'X-Signature-256';

/** GitHub style: `<header>: sha256=<hex HMAC-SHA256 of the body>` (verified by src/ingress/verify/hmac-sha256.ts). */
export function hmacSha256Signer(secret: string, header = DEFAULT_HMAC_HEADER): DeliverySigner {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  const name = header.toLowerCase();
  return ({ body }) => ({ [name]: `sha256=${hmacSha256(key, [body]).toString('hex')}` });
}
