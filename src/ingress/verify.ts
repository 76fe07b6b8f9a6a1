import type { SourceConfig } from '../config/load.js';
import * as cerebrium from '../signatures/cerebrium.js';
import type { IncomingHeaders } from '../signatures/headers.js';
import * as hmacSha256 from '../signatures/hmac-sha256.js';
import * as standardWebhooks from '../signatures/standard-webhooks.js';

export type { IncomingHeaders } from '../signatures/headers.js';

/**
 * Verifies one request of one source. Built once per source at start-up (keys decoded and
 * turned into KeyObjects then), called on the hot path with the exact raw body.
 * Throws `HookrelayError` with a HOOKRELAY_SIGNATURE_* or HOOKRELAY_TIMESTAMP_* code.
 */
export type Verifier = (headers: IncomingHeaders, body: Buffer, nowMs: number) => void;

const acceptAll: Verifier = () => {};

/** Builds the verifier of a source's scheme (src/signatures/); keys are prepared here, once. */
export function createVerifier(verify: SourceConfig['verify']): Verifier {
  switch (verify.scheme) {
    case 'cerebrium': {
      const keys = verify.secrets.map(cerebrium.key);
      const { toleranceMs } = verify;
      return (headers, body, nowMs) => cerebrium.verify(keys, headers, body, nowMs, toleranceMs);
    }
    case 'standard-webhooks': {
      const keys = verify.secrets.map(standardWebhooks.key);
      const { toleranceMs } = verify;
      return (headers, body, nowMs) => standardWebhooks.verify(keys, headers, body, nowMs, toleranceMs);
    }
    case 'hmac-sha256': {
      const keys = verify.secrets.map(hmacSha256.key);
      const header = verify.header.toLowerCase();
      return (headers, body) => hmacSha256.verify(keys, headers, body, header);
    }
    case 'none':
      return acceptAll;
  }
}
