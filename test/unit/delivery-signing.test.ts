import { describe, expect, it } from 'vitest';
import { cerebriumSigner } from '../../src/delivery/signing/cerebrium.js';
import { hmacSha256Signer } from '../../src/delivery/signing/hmac-sha256.js';
import { standardWebhooksSigner } from '../../src/delivery/signing/standard-webhooks.js';
import { cerebriumVerifier } from '../../src/ingress/verify/cerebrium.js';
import { hmacSha256Verifier } from '../../src/ingress/verify/hmac-sha256.js';
import { standardWebhooksVerifier } from '../../src/ingress/verify/standard-webhooks.js';

const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const body = Buffer.from('{"run_id":"r1","status":"success"}');
const now = Date.now();
const input = { eventId: 'evt_1', requestId: 'req-1', timestampSeconds: Math.floor(now / 1000), body };

describe('delivery signing: each scheme\'s sign is accepted by its verify', () => {
  it('cerebrium: carries the callback\'s X-Request-Id (else the event id); a wrong secret or changed body fails', () => {
    const headers = cerebriumSigner('s3cret')(input);
    expect(headers['x-request-id']).toBe('req-1');
    expect(headers['x-cerebrium-webhook-signature']).toMatch(/^v1,[0-9a-f]{64}$/);
    expect(() => cerebriumVerifier(['s3cret'], 300_000)(headers, body, now)).not.toThrow();
    expect(() => cerebriumVerifier(['other'], 300_000)(headers, body, now)).toThrow(expect.objectContaining({ code: 'HOOKRELAY_SIGNATURE_INVALID' }));
    expect(() => cerebriumVerifier(['s3cret'], 300_000)(headers, Buffer.concat([body, Buffer.from(' ')]), now)).toThrow();
    const withoutRequestId = cerebriumSigner('s3cret')({ ...input, requestId: null });
    expect(withoutRequestId['x-request-id']).toBe('evt_1');
    expect(() => cerebriumVerifier(['s3cret'], 300_000)(withoutRequestId, body, now)).not.toThrow();
  });

  it('hmac-sha256: sha256=<hex> in the configured header (default X-Signature-256)', () => {
    const headers = hmacSha256Signer('gh', 'X-Hub-Signature-256')(input);
    expect(Object.keys(headers)).toEqual(['x-hub-signature-256']);
    expect(() => hmacSha256Verifier(['gh'], 'X-Hub-Signature-256')(headers, body, now)).not.toThrow();
    expect(() => hmacSha256Verifier(['nope'], 'X-Hub-Signature-256')(headers, body, now)).toThrow();
    expect(Object.keys(hmacSha256Signer('gh')(input))).toEqual(['x-signature-256']);
  });

  it('standard-webhooks: webhook-signature over webhook-id and webhook-timestamp', () => {
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(input.timestampSeconds), ...standardWebhooksSigner(SW_SECRET)(input) };
    expect(() => standardWebhooksVerifier([SW_SECRET], 300_000)(headers, body, now)).not.toThrow();
    expect(() => standardWebhooksVerifier([SW_SECRET], 300_000)({ ...headers, 'webhook-id': 'evt_2' }, body, now)).toThrow();
  });
});
