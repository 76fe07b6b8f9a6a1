import type { DestinationConfig } from '../config/load.js';
import * as cerebrium from '../signatures/cerebrium.js';
import * as hmacSha256 from '../signatures/hmac-sha256.js';
import * as standardWebhooks from '../signatures/standard-webhooks.js';

/** What a delivery's signature may cover. */
export interface SigningInput {
  /** The event id (`webhook-id`). */
  eventId: string;
  /** The original callback's `X-Request-Id`, or null. */
  requestId: string | null;
  /** The attempt's unix seconds. */
  timestampSeconds: number;
  /** The exact bytes sent. */
  body: Buffer;
}

/**
 * Signs one attempt of a destination: the headers to add (lower-case names). Built once per
 * destination (its key decoded then) with the `sign` of a scheme in src/signatures/, whose
 * `verify` is what ingress runs for a source of the same scheme.
 */
export type DeliverySigner = (input: SigningInput) => Record<string, string>;

/** The destination's signer (`signing`, or its shorthand `signingSecret`), or null when deliveries go unsigned. */
export function createSigner(destination: DestinationConfig): DeliverySigner | null {
  const signing = destination.signing ?? (destination.signingSecret === undefined ? undefined : { scheme: 'standard-webhooks' as const, secret: destination.signingSecret });
  if (!signing) return null;
  switch (signing.scheme) {
    case 'standard-webhooks': {
      // webhook-id and webhook-timestamp: the event id and the attempt's seconds every delivery carries.
      const key = standardWebhooks.key(signing.secret);
      return ({ eventId, timestampSeconds, body }) => standardWebhooks.sign(key, { id: eventId, timestampSeconds, body });
    }
    case 'cerebrium': {
      // So a receiver written to verify Cerebrium works unchanged behind the relay:
      // X-Request-Id = the callback's, else the event id.
      const key = cerebrium.key(signing.secret);
      return ({ eventId, requestId, timestampSeconds, body }) => cerebrium.sign(key, { id: requestId ?? eventId, timestampSeconds, body });
    }
    case 'hmac-sha256': {
      const key = hmacSha256.key(signing.secret);
      const header = (('header' in signing ? signing.header : undefined) ?? hmacSha256.DEFAULT_HEADER).toLowerCase();
      return ({ body }) => hmacSha256.sign(key, body, header);
    }
  }
}
