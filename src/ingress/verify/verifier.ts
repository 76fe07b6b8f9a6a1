import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { HookrelayError } from '../../errors.js';

/** Request headers as Node gives them: lower-case names, repeated headers as arrays. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Verifies one request of one source. Built once per source at start-up (keys decoded and
 * turned into KeyObjects then), called on the hot path with the exact raw body.
 * Throws `HookrelayError` with a HOOKRELAY_SIGNATURE_* or HOOKRELAY_TIMESTAMP_* code.
 */
export type Verifier = (headers: IncomingHeaders, body: Buffer, nowMs: number) => void;

/** The single value of a header; a repeated signature header is ambiguous and rejected. */
export function singleHeader(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', `header ${name} appears more than once`);
  }
  return value;
}

export function requireHeader(headers: IncomingHeaders, name: string): string {
  const value = singleHeader(headers, name);
  if (value === undefined || value === '') {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MISSING', `missing ${name} header`);
  }
  return value;
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

const UNIX_SECONDS = /^\d{1,12}$/;

/** Parses a unix-seconds timestamp header and checks it is within `toleranceMs` of now, past or future. */
export function checkTimestamp(raw: string, header: string, toleranceMs: number, nowMs: number): void {
  if (!UNIX_SECONDS.test(raw)) {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', `${header} is not a unix timestamp in seconds`);
  }
  // Positive: the sender's clock is behind ours (or the request is old); negative: ahead.
  const clockSkewMs = nowMs - Number(raw) * 1000;
  if (Math.abs(clockSkewMs) > toleranceMs) {
    throw new HookrelayError('HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW', `${header} is outside the accepted window of ${toleranceMs} ms`, {
      details: { clockSkewMs },
    });
  }
}

const HEX = /^[0-9a-fA-F]+$/;

export function decodeHex(value: string, what: string): Buffer {
  if (value.length % 2 !== 0 || !HEX.test(value)) {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', `${what} is not hex`);
  }
  return Buffer.from(value, 'hex');
}

/** Upper bound on signature header sizes; anything longer is malformed rather than parsed. */
export const MAX_SIGNATURE_HEADER_LENGTH = 8192;
