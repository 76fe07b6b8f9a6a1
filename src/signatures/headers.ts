import { HookrelayError } from '../errors.js';

/** Request headers as Node gives them: lower-case names, repeated headers as arrays. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Upper bound on signature header sizes; anything longer is malformed rather than parsed. */
export const MAX_SIGNATURE_HEADER_LENGTH = 8192;

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
