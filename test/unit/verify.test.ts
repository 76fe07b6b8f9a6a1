import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
import { createVerifier, type IncomingHeaders, type Verifier } from '../../src/ingress/verify.js';
import { cerebriumRequest, hmacSha256Request, standardWebhooksRequest, type SignedRequest } from '../support/signed-request.js';

const NOW_S = 1_763_800_000;
const NOW_MS = NOW_S * 1000;
const TOLERANCE_MS = 300_000;
const BODY = '{"run_id":"run-1","result":{"pages":600}}';

/** The code a verification ends with: 'ok', or the HOOKRELAY_* code it threw. */
function outcome(verify: Verifier, request: { headers: IncomingHeaders; body: Buffer }, nowMs = NOW_MS): string {
  try {
    verify(request.headers, request.body, nowMs);
    return 'ok';
  } catch (error) {
    if (isHookrelayError(error)) return error.code;
    throw error;
  }
}

type Change = (request: SignedRequest) => { headers: IncomingHeaders; body: Buffer };
const withHeader = (name: string, value: string | string[] | undefined): Change => (request) => ({
  headers: { ...request.headers, [name]: value },
  body: request.body,
});
const withoutHeader = (name: string): Change => (request) => {
  const headers: Record<string, string> = { ...request.headers };
  delete headers[name];
  return { headers, body: request.body };
};
const flipOneByte: Change = (request) => {
  const body = Buffer.from(request.body);
  body[5] = body[5]! ^ 0x01;
  return { headers: request.headers, body };
};
const appendOneByte: Change = (request) => ({ headers: request.headers, body: Buffer.concat([request.body, Buffer.from(' ')]) });

describe('cerebrium verifier', () => {
  const SECRET = 'cerebrium-secret';
  const verify = createVerifier({ scheme: 'cerebrium', secrets: [SECRET], toleranceMs: TOLERANCE_MS, header: 'X-Signature-256' });
  const valid = (opts: { secret?: string; timestamp?: number; body?: string | Buffer } = {}) =>
    cerebriumRequest({ secret: opts.secret ?? SECRET, body: opts.body ?? BODY, requestId: 'req-42', timestamp: opts.timestamp ?? NOW_S });
  const SIG = 'x-cerebrium-webhook-signature';
  const TS = 'x-cerebrium-webhook-timestamp';

  it('accepts a valid request', () => {
    expect(outcome(verify, valid())).toBe('ok');
  });

  it('accepts a signature computed independently of the fixture', () => {
    const signature = createHmac('sha256', 'cerebrium-secret').update(`req-42.${NOW_S}.${BODY}`).digest('hex');
    const headers = { 'x-request-id': 'req-42', [TS]: String(NOW_S), [SIG]: `v1,${signature}` };
    expect(outcome(verify, { headers, body: Buffer.from(BODY) })).toBe('ok');
  });

  it('accepts an empty body and binary bodies byte-exactly', () => {
    expect(outcome(verify, valid({ body: Buffer.alloc(0) }))).toBe('ok');
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xc3]);
    expect(outcome(verify, valid({ body: binary }))).toBe('ok');
  });

  it.each<[string, Change, string]>([
    ['signature header missing', withoutHeader(SIG), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['timestamp header missing', withoutHeader(TS), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['request id missing', withoutHeader('x-request-id'), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['signature header empty', withHeader(SIG, ''), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['signature without version', withHeader(SIG, 'abcdef'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['signature not hex', withHeader(SIG, 'v1,zzzz'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['signature odd-length hex', withHeader(SIG, 'v1,abc'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['only another version', withHeader(SIG, 'v2,abcd'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['signature far too long', withHeader(SIG, `v1,${'ab'.repeat(5000)}`), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['timestamp not a number', withHeader(TS, 'yesterday'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['timestamp in milliseconds', withHeader(TS, String(NOW_MS)), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['wrong signature (well-formed)', withHeader(SIG, `v1,${'00'.repeat(32)}`), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['truncated signature', (r) => withHeader(SIG, r.headers[SIG]!.slice(0, 19))(r), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['request id changed', withHeader('x-request-id', 'req-43'), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['body changed by one byte', flipOneByte, 'HOOKRELAY_SIGNATURE_INVALID'],
    ['body longer by one byte', appendOneByte, 'HOOKRELAY_SIGNATURE_INVALID'],
    ['signature header repeated', (r) => withHeader(SIG, [r.headers[SIG]!, r.headers[SIG]!])(r), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['timestamp header repeated', (r) => withHeader(TS, [r.headers[TS]!, r.headers[TS]!])(r), 'HOOKRELAY_SIGNATURE_MALFORMED'],
  ])('%s', (_name, change, code) => {
    expect(outcome(verify, change(valid()))).toBe(code);
  });

  it('timestamp changed (still in the window) breaks the signature', () => {
    expect(outcome(verify, withHeader(TS, String(NOW_S - 1))(valid()))).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });

  it('signed with the wrong secret -> HOOKRELAY_SIGNATURE_INVALID', () => {
    expect(outcome(verify, valid({ secret: 'another-secret' }))).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });

  it.each([
    ['at the edge in the past', NOW_S - 300, 'ok'],
    ['at the edge in the future', NOW_S + 300, 'ok'],
    ['too old', NOW_S - 301, 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'],
    ['too far in the future', NOW_S + 301, 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'],
    ['a day old', NOW_S - 86_400, 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'],
  ])('timestamp %s -> %s', (_name, timestamp, code) => {
    // validly signed with its own timestamp: only the window decides
    expect(outcome(verify, valid({ timestamp }))).toBe(code);
  });

  it('secret rotation: a request signed with any configured secret passes', () => {
    const rotating = createVerifier({ scheme: 'cerebrium', secrets: ['old-secret', 'new-secret'], toleranceMs: TOLERANCE_MS, header: 'X-Signature-256' });
    expect(outcome(rotating, valid({ secret: 'old-secret' }))).toBe('ok');
    expect(outcome(rotating, valid({ secret: 'new-secret' }))).toBe('ok');
    expect(outcome(rotating, valid({ secret: SECRET }))).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });

  it('several space-separated v1 entries: any match passes', () => {
    const request = valid();
    const header = `v1,${'11'.repeat(32)} ${request.headers[SIG]!}`;
    expect(outcome(verify, withHeader(SIG, header)(request))).toBe('ok');
  });
});

describe('standard-webhooks verifier', () => {
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const verifierOf = (secrets: string[], toleranceMs = TOLERANCE_MS) =>
    createVerifier({ scheme: 'standard-webhooks', secrets, toleranceMs, header: 'X-Signature-256' });
  const verify = verifierOf([SECRET]);
  const valid = (opts: { secret?: string; timestamp?: number; body?: string | Buffer } = {}) =>
    standardWebhooksRequest({ secret: opts.secret ?? SECRET, body: opts.body ?? BODY, id: 'msg_1', timestamp: opts.timestamp ?? NOW_S });
  const SIG = 'webhook-signature';
  const TS = 'webhook-timestamp';

  // The published vector of the reference library (standard-webhooks/standard-webhooks,
  // libraries/javascript/src/webhook.test.ts, "sign function works").
  const VECTOR = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    payload: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  const vectorRequest = (signature = VECTOR.signature) => ({
    headers: { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': signature },
    body: Buffer.from(VECTOR.payload),
  });
  const AT_VECTOR = VECTOR.timestamp * 1000;

  it('accepts the published test vector', () => {
    expect(outcome(verifierOf([VECTOR.secret]), vectorRequest(), AT_VECTOR)).toBe('ok');
  });

  it('accepts the vector with the secret given without its whsec_ prefix', () => {
    expect(outcome(verifierOf([VECTOR.secret.slice('whsec_'.length)]), vectorRequest(), AT_VECTOR)).toBe('ok');
  });

  it('accepts the vector among other signatures (the reference multi-signature case)', () => {
    const other = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const header = [other, 'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=', VECTOR.signature, other].join(' ');
    expect(outcome(verifierOf([VECTOR.secret]), vectorRequest(header), AT_VECTOR)).toBe('ok');
  });

  it.each([
    ['a made-up signature', 'v1,dawfeoifkpqwoekfpqoekf'],
    ['a partial signature', VECTOR.signature.slice(0, 8)],
    ['an empty v1 signature', 'v1,'],
  ])('rejects the vector with %s (reference negative cases)', (_name, signature) => {
    expect(outcome(verifierOf([VECTOR.secret]), vectorRequest(signature), AT_VECTOR)).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });

  it('rejects the vector outside its window (old and new timestamps, as the reference tests)', () => {
    expect(outcome(verifierOf([VECTOR.secret]), vectorRequest(), AT_VECTOR + TOLERANCE_MS + 1000)).toBe('HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW');
    expect(outcome(verifierOf([VECTOR.secret]), vectorRequest(), AT_VECTOR - TOLERANCE_MS - 1000)).toBe('HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW');
  });

  it('our fixture signs exactly as the reference vector', () => {
    const request = standardWebhooksRequest({ secret: VECTOR.secret, body: VECTOR.payload, id: VECTOR.id, timestamp: VECTOR.timestamp });
    expect(request.headers['webhook-signature']).toBe(VECTOR.signature);
  });

  it('accepts a request signed by the standardwebhooks npm package', () => {
    const webhook = new Webhook(SECRET);
    const id = 'msg_2mVzQJ8b0iDk3N4kCm2xXkVUc5S';
    const date = new Date(NOW_MS);
    const payload = '{"type":"run.completed","data":{"run_id":"run-99","pages":[1,2,3]}}';
    const signature = webhook.sign(id, date, payload);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(NOW_S), 'webhook-signature': signature };
    expect(outcome(verify, { headers, body: Buffer.from(payload) })).toBe('ok');
    // and the package accepts what our fixture signs (the two agree), checked at the real clock
    const fresh = standardWebhooksRequest({ secret: SECRET, body: payload, id });
    expect(() => webhook.verify(fresh.body, fresh.headers)).not.toThrow();
  });

  it('accepts a valid request', () => {
    expect(outcome(verify, valid())).toBe('ok');
  });

  it.each<[string, Change, string]>([
    ['webhook-signature missing', withoutHeader(SIG), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['webhook-timestamp missing', withoutHeader(TS), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['webhook-id missing', withoutHeader('webhook-id'), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['entry without a comma', withHeader(SIG, 'garbage'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['entry not base64', withHeader(SIG, 'v1,not*base64!'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['no v1 entry', withHeader(SIG, 'v1a,abcd'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['timestamp not a number', withHeader(TS, 'hello'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['wrong signature', withHeader(SIG, `v1,${Buffer.alloc(32, 7).toString('base64')}`), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['webhook-id changed', withHeader('webhook-id', 'msg_2'), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['timestamp changed within the window', withHeader(TS, String(NOW_S + 1)), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['body changed by one byte', flipOneByte, 'HOOKRELAY_SIGNATURE_INVALID'],
    ['body longer by one byte', appendOneByte, 'HOOKRELAY_SIGNATURE_INVALID'],
    ['signature header repeated', (r) => withHeader(SIG, [r.headers[SIG]!, r.headers[SIG]!])(r), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['webhook-id repeated', withHeader('webhook-id', ['msg_1', 'msg_1']), 'HOOKRELAY_SIGNATURE_MALFORMED'],
  ])('%s', (_name, change, code) => {
    expect(outcome(verify, change(valid()))).toBe(code);
  });

  it('signed with the wrong secret -> HOOKRELAY_SIGNATURE_INVALID', () => {
    expect(outcome(verify, valid({ secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64') }))).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });

  it.each([
    ['too old', NOW_S - 301, 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'],
    ['too far in the future', NOW_S + 301, 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'],
    ['inside the window', NOW_S - 299, 'ok'],
  ])('timestamp %s -> %s', (_name, timestamp, code) => {
    expect(outcome(verify, valid({ timestamp }))).toBe(code);
  });

  it('honours a configured tolerance', () => {
    const strict = verifierOf([SECRET], 10_000);
    expect(outcome(strict, valid({ timestamp: NOW_S - 10 }))).toBe('ok');
    expect(outcome(strict, valid({ timestamp: NOW_S - 11 }))).toBe('HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW');
  });

  it('secret rotation: the second secret matches', () => {
    const second = 'whsec_' + Buffer.from('a second signing key, 32 bytes!!').toString('base64');
    const rotating = verifierOf([SECRET, second]);
    expect(outcome(rotating, valid({ secret: second }))).toBe('ok');
    expect(outcome(rotating, valid({ secret: SECRET }))).toBe('ok');
    expect(outcome(verifierOf([SECRET]), valid({ secret: second }))).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });
});

describe('hmac-sha256 verifier', () => {
  const SECRET = 'github-secret';
  const HEADER = 'X-Hub-Signature-256';
  const verifierOf = (secrets: string[], header = HEADER) => createVerifier({ scheme: 'hmac-sha256', secrets, toleranceMs: TOLERANCE_MS, header });
  const verify = verifierOf([SECRET]);
  const valid = (secret = SECRET) => hmacSha256Request({ secret, body: BODY, header: HEADER });
  const SIG = 'x-hub-signature-256';

  it('accepts a valid request (header name matched case-insensitively)', () => {
    expect(outcome(verify, valid())).toBe('ok');
    expect(outcome(verifierOf([SECRET], 'x-HUB-signature-256'), valid())).toBe('ok');
  });

  it('accepts the GitHub documentation example', () => {
    // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!"
    const headers = { [SIG]: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    expect(outcome(verifierOf(["It's a Secret to Everybody"]), { headers, body: Buffer.from('Hello, World!') })).toBe('ok');
  });

  it('uses X-Signature-256 by default', () => {
    const byDefault = createVerifier({ scheme: 'hmac-sha256', secrets: [SECRET], toleranceMs: TOLERANCE_MS, header: 'X-Signature-256' });
    expect(outcome(byDefault, hmacSha256Request({ secret: SECRET, body: BODY }))).toBe('ok');
    expect(outcome(byDefault, valid())).toBe('HOOKRELAY_SIGNATURE_MISSING');
  });

  it.each<[string, Change, string]>([
    ['header missing', withoutHeader(SIG), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['header empty', withHeader(SIG, ''), 'HOOKRELAY_SIGNATURE_MISSING'],
    ['no sha256= prefix', (r) => withHeader(SIG, r.headers[SIG]!.slice('sha256='.length))(r), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['sha1= prefix', withHeader(SIG, `sha1=${'ab'.repeat(20)}`), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['not hex', withHeader(SIG, 'sha256=xyz!'), 'HOOKRELAY_SIGNATURE_MALFORMED'],
    ['wrong signature', withHeader(SIG, `sha256=${'ab'.repeat(32)}`), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['truncated signature', (r) => withHeader(SIG, r.headers[SIG]!.slice(0, 39))(r), 'HOOKRELAY_SIGNATURE_INVALID'],
    ['body changed by one byte', flipOneByte, 'HOOKRELAY_SIGNATURE_INVALID'],
    ['body longer by one byte', appendOneByte, 'HOOKRELAY_SIGNATURE_INVALID'],
    ['header repeated', (r) => withHeader(SIG, [r.headers[SIG]!, r.headers[SIG]!])(r), 'HOOKRELAY_SIGNATURE_MALFORMED'],
  ])('%s', (_name, change, code) => {
    expect(outcome(verify, change(valid()))).toBe(code);
  });

  it('signed with the wrong secret -> HOOKRELAY_SIGNATURE_INVALID', () => {
    expect(outcome(verify, valid('not-the-secret'))).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });

  it('carries no timestamp: any clock passes', () => {
    expect(outcome(verify, valid(), 0)).toBe('ok');
  });

  it('secret rotation: the second secret matches', () => {
    const rotating = verifierOf(['old', 'new']);
    expect(outcome(rotating, valid('new'))).toBe('ok');
    expect(outcome(rotating, valid('old'))).toBe('ok');
    expect(outcome(rotating, valid(SECRET))).toBe('HOOKRELAY_SIGNATURE_INVALID');
  });
});

describe('scheme none', () => {
  it('accepts anything', () => {
    const verify = createVerifier({ scheme: 'none', secrets: [], toleranceMs: TOLERANCE_MS, header: 'X-Signature-256' });
    expect(outcome(verify, { headers: {}, body: Buffer.from('x') })).toBe('ok');
  });
});
