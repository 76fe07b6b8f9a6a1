import { describe, expect, it } from 'vitest';
import { resolveConfig, type DestinationConfig } from '../../src/config/load.js';
import { createSigner, type DeliverySigner } from '../../src/delivery/sign.js';
import { createVerifier } from '../../src/ingress/verify.js';

const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const body = Buffer.from('{"run_id":"r1","status":"success"}');
const now = Date.now();
const input = { eventId: 'evt_1', requestId: 'req-1', timestampSeconds: Math.floor(now / 1000), body };

/** A destination as the config resolves it, with these signing keys. */
function destination(signing: Record<string, unknown>): DestinationConfig {
  return resolveConfig({
    storage: { sqlite: { path: '/tmp/hookrelay-signing-test.db' } },
    sources: [{ name: 'cerebrium', path: '/in', verify: { scheme: 'none' } }],
    destinations: [{ name: 'app', url: 'http://127.0.0.1:1/', ...signing }],
  }).destinations[0]!;
}

function signerOf(signing: Record<string, unknown>): DeliverySigner {
  const signer = createSigner(destination(signing));
  if (!signer) throw new Error('expected a signer');
  return signer;
}

/** The headers every delivery carries before the signer's (src/delivery/send.ts). */
const sent = { 'webhook-id': input.eventId, 'webhook-timestamp': String(input.timestampSeconds) };

describe('delivery signing: each destination scheme is accepted by the ingress verifier of that scheme', () => {
  it('unsigned when neither signing nor signingSecret is set', () => {
    expect(createSigner(destination({}))).toBeNull();
  });

  it('cerebrium: carries the callback\'s X-Request-Id (else the event id); a wrong secret or changed body fails', () => {
    const headers = signerOf({ signing: { scheme: 'cerebrium', secret: 's3cret' } })(input);
    expect(Object.keys(headers)).toEqual(['x-request-id', 'x-cerebrium-webhook-timestamp', 'x-cerebrium-webhook-signature']);
    expect(headers['x-request-id']).toBe('req-1');
    expect(headers['x-cerebrium-webhook-timestamp']).toBe(String(input.timestampSeconds));
    expect(headers['x-cerebrium-webhook-signature']).toMatch(/^v1,[0-9a-f]{64}$/);
    const verifierOf = (secret: string) => createVerifier({ scheme: 'cerebrium', secrets: [secret], toleranceMs: 300_000, header: 'X-Signature-256' });
    expect(() => verifierOf('s3cret')(headers, body, now)).not.toThrow();
    expect(() => verifierOf('other')(headers, body, now)).toThrow(expect.objectContaining({ code: 'HOOKRELAY_SIGNATURE_INVALID' }));
    expect(() => verifierOf('s3cret')(headers, Buffer.concat([body, Buffer.from(' ')]), now)).toThrow();
    const withoutRequestId = signerOf({ signing: { scheme: 'cerebrium', secret: 's3cret' } })({ ...input, requestId: null });
    expect(withoutRequestId['x-request-id']).toBe('evt_1');
    expect(() => verifierOf('s3cret')(withoutRequestId, body, now)).not.toThrow();
  });

  it('hmac-sha256: sha256=<hex> in the configured header (default X-Signature-256)', () => {
    const headers = signerOf({ signing: { scheme: 'hmac-sha256', secret: 'gh', header: 'X-Hub-Signature-256' } })(input);
    expect(Object.keys(headers)).toEqual(['x-hub-signature-256']);
    expect(headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
    const verifierOf = (secret: string) => createVerifier({ scheme: 'hmac-sha256', secrets: [secret], toleranceMs: 300_000, header: 'X-Hub-Signature-256' });
    expect(() => verifierOf('gh')(headers, body, now)).not.toThrow();
    expect(() => verifierOf('nope')(headers, body, now)).toThrow(expect.objectContaining({ code: 'HOOKRELAY_SIGNATURE_INVALID' }));
    expect(Object.keys(signerOf({ signing: { scheme: 'hmac-sha256', secret: 'gh' } })(input))).toEqual(['x-signature-256']);
  });

  it('standard-webhooks (signing or its shorthand signingSecret): webhook-signature over the webhook-id and webhook-timestamp every delivery carries', () => {
    for (const signing of [{ signing: { scheme: 'standard-webhooks', secret: SW_SECRET } }, { signingSecret: SW_SECRET }]) {
      const signed = signerOf(signing)(input);
      // the id and timestamp it signs are the ones the delivery already carries
      expect(signed).toEqual({ ...sent, 'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/) });
      const headers = { ...sent, ...signed };
      const verify = createVerifier({ scheme: 'standard-webhooks', secrets: [SW_SECRET], toleranceMs: 300_000, header: 'X-Signature-256' });
      expect(() => verify(headers, body, now)).not.toThrow();
      expect(() => verify({ ...headers, 'webhook-id': 'evt_2' }, body, now)).toThrow(expect.objectContaining({ code: 'HOOKRELAY_SIGNATURE_INVALID' }));
    }
  });
});
