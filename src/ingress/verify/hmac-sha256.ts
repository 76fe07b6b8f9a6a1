import { createSecretKey } from 'node:crypto';
import { HookrelayError } from '../../errors.js';
import { decodeHex, digestsEqual, hmacSha256, MAX_SIGNATURE_HEADER_LENGTH, requireHeader, type Verifier } from './verifier.js';

/** GitHub style: a configurable header holding `sha256=<hex>` of the raw body. No timestamp. */
export function hmacSha256Verifier(secrets: readonly string[], headerName: string): Verifier {
  const header = headerName.toLowerCase();
  const keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  return (headers, body) => {
    const value = requireHeader(headers, header);
    if (value.length > MAX_SIGNATURE_HEADER_LENGTH || !value.startsWith('sha256=')) {
      throw new HookrelayError('HOOKRELAY_SIGNATURE_MALFORMED', `${header} must be "sha256=<hex>"`);
    }
    const provided = decodeHex(value.slice('sha256='.length), header);
    for (const key of keys) {
      if (digestsEqual(hmacSha256(key, [body]), provided)) return;
    }
    throw new HookrelayError('HOOKRELAY_SIGNATURE_INVALID', 'signature does not match');
  };
}
