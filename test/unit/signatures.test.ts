import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
import * as cerebrium from '../../src/signatures/cerebrium.js';
import * as hmacSha256 from '../../src/signatures/hmac-sha256.js';
import * as standardWebhooks from '../../src/signatures/standard-webhooks.js';
import { cerebriumRequest, hmacSha256Request, standardWebhooksRequest } from '../support/signed-request.js';

/*
 * Each scheme's `sign` against its `verify` (round trip, for any secret, id, body and clock within
 * the window), and against an independent signer: the test fixture, written from the producers'
 * documented algorithms with createHmac, and for Standard Webhooks the reference npm package.
 * The table-driven negative cases of each verify are in verify.test.ts.
 */

const TOLERANCE_MS = 300_000;

/** The code a verification ends with: 'ok', or the HOOKRELAY_* code it threw. */
function outcome(verify: () => void): string {
  try {
    verify();
    return 'ok';
  } catch (error) {
    if (isHookrelayError(error)) return error.code;
    throw error;
  }
}

const body = fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes));
const nonEmptyBody = fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((bytes) => Buffer.from(bytes));
const utf8Secret = fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' });
const whsecSecret = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => `whsec_${Buffer.from(bytes).toString('base64')}`);
const id = fc.string({ minLength: 1, maxLength: 64 });
const timestampSeconds = fc.integer({ min: 0, max: 99_999_999_999 });
/** How far the verifier's clock is from the signer's: inside the window, and outside it. */
const skewInside = fc.integer({ min: -TOLERANCE_MS, max: TOLERANCE_MS });
const skewOutside = fc.integer({ min: TOLERANCE_MS + 1, max: 10 * TOLERANCE_MS }).chain((ms) => fc.constantFrom(ms, -ms));

/** The body with one byte changed, or one byte more. */
const tampered = (original: Buffer, at: number, append: boolean): Buffer => {
  if (append || original.length === 0) return Buffer.concat([original, Buffer.from([at & 0xff])]);
  const copy = Buffer.from(original);
  copy[at % copy.length] = copy[at % copy.length]! ^ 0x01;
  return copy;
};

const timestampedSchemes = [
  { name: 'cerebrium', scheme: cerebrium, secret: utf8Secret },
  { name: 'standard-webhooks', scheme: standardWebhooks, secret: whsecSecret },
] as const;

for (const { name, scheme, secret } of timestampedSchemes) {
  describe(`${name}: sign then verify`, () => {
    it('verify accepts what sign produced, for any secret, id, body and clock skew within the window', () => {
      fc.assert(
        fc.property(secret, id, body, timestampSeconds, skewInside, (secretText, messageId, bytes, seconds, skew) => {
          const key = scheme.key(secretText);
          const headers = scheme.sign(key, { id: messageId, timestampSeconds: seconds, body: bytes });
          expect(outcome(() => scheme.verify([key], headers, bytes, seconds * 1000 + skew, TOLERANCE_MS))).toBe('ok');
        }),
      );
    });

    it('a changed body, another secret or a clock outside the window is refused', () => {
      fc.assert(
        fc.property(secret, secret, id, body, timestampSeconds, skewOutside, fc.nat(), fc.boolean(), (secretText, otherText, messageId, bytes, seconds, skew, at, append) => {
          const key = scheme.key(secretText);
          const headers = scheme.sign(key, { id: messageId, timestampSeconds: seconds, body: bytes });
          const nowMs = seconds * 1000;
          expect(outcome(() => scheme.verify([key], headers, tampered(bytes, at, append), nowMs, TOLERANCE_MS))).toBe('HOOKRELAY_SIGNATURE_INVALID');
          expect(outcome(() => scheme.verify([key], headers, bytes, nowMs + skew, TOLERANCE_MS))).toBe('HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW');
          const other = scheme.key(otherText);
          if (!other.equals(key)) {
            expect(outcome(() => scheme.verify([other], headers, bytes, nowMs, TOLERANCE_MS))).toBe('HOOKRELAY_SIGNATURE_INVALID');
            // rotation: any configured secret may match
            expect(outcome(() => scheme.verify([other, key], headers, bytes, nowMs, TOLERANCE_MS))).toBe('ok');
          }
        }),
      );
    });
  });
}

describe('hmac-sha256: sign then verify', () => {
  const header = fc.constantFrom('x-signature-256', 'x-hub-signature-256');

  it('verify accepts what sign produced, for any secret, body and header; a changed body or another secret is refused', () => {
    fc.assert(
      fc.property(utf8Secret, utf8Secret, body, header, fc.nat(), fc.boolean(), (secretText, otherText, bytes, name, at, append) => {
        const key = hmacSha256.key(secretText);
        const headers = hmacSha256.sign(key, bytes, name);
        expect(Object.keys(headers)).toEqual([name]);
        expect(outcome(() => hmacSha256.verify([key], headers, bytes, name))).toBe('ok');
        expect(outcome(() => hmacSha256.verify([key], headers, tampered(bytes, at, append), name))).toBe('HOOKRELAY_SIGNATURE_INVALID');
        if (otherText !== secretText) {
          expect(outcome(() => hmacSha256.verify([hmacSha256.key(otherText)], headers, bytes, name))).toBe('HOOKRELAY_SIGNATURE_INVALID');
        }
      }),
    );
  });
});

describe('sign agrees with an independent signer', () => {
  it('cerebrium: the same three headers as the fixture', () => {
    fc.assert(
      fc.property(utf8Secret, fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), nonEmptyBody, timestampSeconds, (secretText, requestId, bytes, seconds) => {
        const { headers } = cerebriumRequest({ secret: secretText, body: bytes, requestId, timestamp: seconds });
        const { 'content-type': _contentType, ...expected } = headers;
        expect(cerebrium.sign(cerebrium.key(secretText), { id: requestId, timestampSeconds: seconds, body: bytes })).toEqual(expected);
      }),
    );
  });

  it('standard-webhooks: the same signature as the fixture and as the standardwebhooks package', () => {
    fc.assert(
      fc.property(whsecSecret, fc.stringMatching(/^msg_[A-Za-z0-9]{1,30}$/), fc.string({ maxLength: 500 }), timestampSeconds, (secretText, messageId, payload, seconds) => {
        const signed = standardWebhooks.sign(standardWebhooks.key(secretText), { id: messageId, timestampSeconds: seconds, body: Buffer.from(payload) });
        const { 'content-type': _contentType, ...expected } = standardWebhooksRequest({ secret: secretText, body: payload, id: messageId, timestamp: seconds }).headers;
        expect(signed).toEqual(expected);
        expect(signed['webhook-signature']).toBe(new Webhook(secretText).sign(messageId, new Date(seconds * 1000), payload));
      }),
      { numRuns: 50 },
    );
  });

  it('hmac-sha256: the same header as the fixture', () => {
    fc.assert(
      fc.property(utf8Secret, body, (secretText, bytes) => {
        const { 'content-type': _contentType, ...expected } = hmacSha256Request({ secret: secretText, body: bytes, header: 'X-Hub-Signature-256' }).headers;
        expect(hmacSha256.sign(hmacSha256.key(secretText), bytes, 'x-hub-signature-256')).toEqual(expected);
      }),
    );
  });
});
