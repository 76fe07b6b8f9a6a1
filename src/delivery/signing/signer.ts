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
 * destination (its key decoded then); the matching `verify` of each scheme is the ingress
 * verifier of the same name in src/ingress/verify/, which shares the HMAC primitive.
 */
export type DeliverySigner = (input: SigningInput) => Record<string, string>;
