import * as realCrypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../../src/ingress/verify.js';
import { cerebriumRequest, hmacSha256Request, standardWebhooksRequest } from '../support/signed-request.js';

/**
 * Signature comparison is constant-time: every scheme compares digests through
 * crypto.timingSafeEqual (via src/signatures/hmac.ts digestsEqual), never with ===, Buffer.equals or a
 * string compare. Asserted by observing node:crypto's timingSafeEqual (a Node built-in, not
 * one of our parts) instead of measuring time, which would be flaky.
 */
const calls = vi.hoisted(() => ({ count: 0, lengths: [] as number[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.count++;
      calls.lengths.push(a.byteLength);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const CEREBRIUM_SECRET = 'ct-cerebrium-secret';
const WHSEC = `whsec_${realCrypto.randomBytes(24).toString('base64')}`;
const GITHUB_SECRET = 'ct-github-secret';
const NOW = Date.now();

/** Changes the first character of the digest in "v1,<digest>" or "sha256=<digest>" (same length, wrong value). */
function tamper(signature: string): string {
  const at = (signature.startsWith('sha256=') ? signature.indexOf('=') : signature.indexOf(',')) + 1;
  const replacement = signature[at] === 'a' ? 'b' : 'a';
  return signature.slice(0, at) + replacement + signature.slice(at + 1);
}

const cases = [
  {
    scheme: 'cerebrium',
    verifier: createVerifier({ scheme: 'cerebrium', secrets: [CEREBRIUM_SECRET], toleranceMs: 300_000, header: 'X-Signature-256' }),
    signed: () => cerebriumRequest({ secret: CEREBRIUM_SECRET, body: '{"run_id":"ct"}' }).headers,
    header: 'x-cerebrium-webhook-signature',
  },
  {
    scheme: 'standard-webhooks',
    verifier: createVerifier({ scheme: 'standard-webhooks', secrets: [WHSEC], toleranceMs: 300_000, header: 'X-Signature-256' }),
    signed: () => standardWebhooksRequest({ secret: WHSEC, body: '{"run_id":"ct"}' }).headers,
    header: 'webhook-signature',
  },
  {
    scheme: 'hmac-sha256',
    verifier: createVerifier({ scheme: 'hmac-sha256', secrets: [GITHUB_SECRET], toleranceMs: 300_000, header: 'X-Hub-Signature-256' }),
    signed: () => hmacSha256Request({ secret: GITHUB_SECRET, body: '{"run_id":"ct"}', header: 'X-Hub-Signature-256' }).headers,
    header: 'x-hub-signature-256',
  },
] as const;

describe('signature comparison is constant-time (crypto.timingSafeEqual) in every scheme', () => {
  beforeEach(() => {
    calls.count = 0;
    calls.lengths = [];
  });

  for (const { scheme, verifier, signed, header } of cases) {
    it(`${scheme}: a valid and a same-length wrong signature are both compared with timingSafeEqual over 32-byte digests`, () => {
      const body = Buffer.from('{"run_id":"ct"}');
      const headers = signed();
      expect(() => verifier(headers, body, NOW)).not.toThrow();
      expect(calls.count).toBeGreaterThanOrEqual(1);

      calls.count = 0;
      calls.lengths = [];
      const wrong = { ...headers, [header]: tamper(headers[header]!) };
      expect(() => verifier(wrong, body, NOW)).toThrow(expect.objectContaining({ code: 'HOOKRELAY_SIGNATURE_INVALID' }));
      expect(calls.count).toBeGreaterThanOrEqual(1);
      expect(new Set(calls.lengths)).toEqual(new Set([32]));
    });
  }
});
