import type { KeyObject } from 'node:crypto';
import { HookrelayError } from '../errors.js';
import { MAX_SIGNATURE_HEADER_LENGTH, requireHeader, type IncomingHeaders } from './headers.js';
import { decodeHex, digestsEqual, hmacSha256, utf8Key } from './hmac.js';

/*
 * GitHub style: a configurable header holding `sha256=<hex>`, the HMAC-SHA256 of the raw body
 * keyed with the secret's UTF-8 bytes. No timestamp. `header` is the lower-case header name.
 */

/** The header GitHub-style receivers read when none is configured. */
export const DEFAULT_HEADER = 'X-Signature-256';

/** The signing key of a GitHub-style secret: its UTF-8 bytes. */
export function key(secret: string): KeyObject {
  return utf8Key(secret);
}

/** The one header a GitHub-style request carries. */
export function sign(signingKey: KeyObject, body: Buffer, header: string): Record<string, string> {
  return { [header]: `sha256=${hmacSha256(signingKey, [body]).toString('hex')}` };
}

/** Passes when the header matches under any of `keys`; else throws HOOKRELAY_SIGNATURE_MISSING / _MALFORMED / _INVALID. */
export function verify(keys: readonly KeyObject[], headers: IncomingHeaders, body: Buffer, header: string): void {
  const value = requireHeader(headers, header);
  if (value.length > MAX_SIGNATURE_HEADER_LENGTH || !value.startsWith('sha256=')) {
    throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', `${header} must be "sha256=<hex>"`);
  }
  const provided = decodeHex(value.slice('sha256='.length), header);
  for (const candidateKey of keys) {
    if (digestsEqual(hmacSha256(candidateKey, [body]), provided)) return;
  }
  throw new HookrelayError('HOOKRELAY_SIGNATURE_INVALID', 'signature does not match');
}
