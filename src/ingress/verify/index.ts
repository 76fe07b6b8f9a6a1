import type { SourceConfig } from '../../config/load.js';
import { cerebriumVerifier } from './cerebrium.js';
import { hmacSha256Verifier } from './hmac-sha256.js';
import { standardWebhooksVerifier } from './standard-webhooks.js';
import type { Verifier } from './verifier.js';

export type { Verifier, IncomingHeaders } from './verifier.js';

const acceptAll: Verifier = () => {};

/** Builds the verifier of a source's scheme; keys are prepared here, once. */
export function createVerifier(verify: SourceConfig['verify']): Verifier {
  switch (verify.scheme) {
    case 'cerebrium':
      return cerebriumVerifier(verify.secrets, verify.toleranceMs);
    case 'standard-webhooks':
      return standardWebhooksVerifier(verify.secrets, verify.toleranceMs);
    case 'hmac-sha256':
      return hmacSha256Verifier(verify.secrets, verify.header);
    case 'none':
      return acceptAll;
  }
}
