import type { DestinationConfig } from '../../config/load.js';
import { cerebriumSigner } from './cerebrium.js';
import { hmacSha256Signer } from './hmac-sha256.js';
import type { DeliverySigner } from './signer.js';
import { standardWebhooksSigner } from './standard-webhooks.js';

export type { DeliverySigner, SigningInput } from './signer.js';

/** The destination's signer (`signing`, or its shorthand `signingSecret`), or null when deliveries go unsigned. */
export function createSigner(destination: DestinationConfig): DeliverySigner | null {
  const signing = destination.signing ?? (destination.signingSecret === undefined ? undefined : { scheme: 'standard-webhooks' as const, secret: destination.signingSecret });
  if (!signing) return null;
  switch (signing.scheme) {
    case 'standard-webhooks':
      return standardWebhooksSigner(signing.secret);
    case 'cerebrium':
      return cerebriumSigner(signing.secret);
    case 'hmac-sha256':
      return hmacSha256Signer(signing.secret, 'header' in signing ? signing.header : undefined);
  }
}
