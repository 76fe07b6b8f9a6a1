import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { HookrelayError } from '../errors.js';

/** The key of a scheme whose secret is used as it is written: its UTF-8 bytes (Cerebrium, GitHub style). */
export function utf8Key(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** HMAC-SHA256 of the parts, in order, under the key. */
export function hmacSha256(key: KeyObject, parts: readonly (string | Buffer)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/** Constant-time equality of two digests; lengths are compared first (they are not secret). */
export function digestsEqual(expected: Buffer, provided: Buffer): boolean {
  return expected.length === provided.length && timingSafeEqual(expected, provided);
}

const HEX = /^[0-9a-fA-F]+$/;

export function decodeHex(value: string, what: string): Buffer {
  if (value.length % 2 !== 0 || !HEX.test(value)) {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', `${what} is not hex`);
  }
  return Buffer.from(value, 'hex');
}

/** What the timestamped schemes sign: an id, the unix seconds it was sent at, the exact body. */
export interface SignedMessage {
  id: string;
  timestampSeconds: number;
  body: Buffer;
}
