import { pino } from 'pino';
import { request } from 'undici';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminListener, type AdminListener } from '../../src/admin/app.js';
import { bearerMatches } from '../../src/admin/auth.js';
import { createMetrics } from '../../src/admin/metrics.js';
import { resolveConfig } from '../../src/config/load.js';
import { createVerifier } from '../../src/ingress/verify.js';
import { signTestCallback, sourceUrl } from '../../src/operator/test-callback.js';
import { attemptAll, ingest, operatorFixture, type Fixture } from '../support/operator-fixtures.js';

const silent = pino({ level: 'silent' });

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await request(url, { headers });
  const text = await response.body.text();
  return { status: response.statusCode, text, json: () => JSON.parse(text) as Record<string, unknown>, headers: response.headers };
}

/** The value of one sample line of a Prometheus exposition, e.g. `name{a="b"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('admin listener (in process, real store)', () => {
  let fixture: Fixture;
  let admin: AdminListener | null = null;
  afterEach(async () => {
    await admin?.close();
    admin = null;
    await fixture?.close();
  });

  async function start(token: string, extra: Partial<Parameters<typeof createAdminListener>[0]> = {}) {
    fixture = operatorFixture({ admin: { host: '127.0.0.1', port: 0, token } });
    const metrics = createMetrics({ config: fixture.config, store: fixture.store, processMetrics: false });
    admin = createAdminListener({ config: fixture.config, store: fixture.store, logger: silent, metrics, ...extra });
    const port = await admin.listen();
    return { base: `http://127.0.0.1:${port}`, metrics };
  }

  it('guards /admin/* with the bearer token and leaves /metrics open', async () => {
    const { base } = await start('s3cret-token');
    const missing = await get(`${base}/admin/api/stats`);
    expect(missing.status).toBe(401);
    expect(missing.json()).toMatchObject({ error: { code: 'HOOKRELAY_UNAUTHORIZED' } });
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    expect((await get(`${base}/admin/api/stats`, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(`${base}/admin/api/stats`, { authorization: 's3cret-token' })).status).toBe(401);
    expect((await get(`${base}/admin/api/nothing-here`)).status).toBe(401);
    const ok = await get(`${base}/admin/api/stats`, { authorization: 'Bearer s3cret-token' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({
      events: 0,
      deliveries: { pending: 0, inFlight: 0, delivered: 0, dead: 0 },
      destinations: { app: { pending: 0, inFlight: 0, delivered: 0, dead: 0 }, audit: { pending: 0, inFlight: 0, delivered: 0, dead: 0 } },
      quarantined: {},
    });
    expect((await get(`${base}/metrics`)).status).toBe(200);
    const notFound = await get(`${base}/admin/api/nothing-here`, { authorization: 'Bearer s3cret-token' });
    expect(notFound.status).toBe(404);
    expect(notFound.json()).toMatchObject({ error: { code: 'HOOKRELAY_NOT_FOUND' } });
  });

  it('needs no token when admin.token is empty', async () => {
    const { base } = await start('');
    expect((await get(`${base}/admin/api/stats`)).status).toBe(200);
  });

  it('lets the dashboard add routes later (exported router, extra middleware) and accept its own credential', async () => {
    const { base } = await start('tok', {
      allowRequest: (ctx) => ctx.get('x-test-session') === 'valid',
      routes: [async (ctx, next) => (ctx.path === '/page' ? void (ctx.body = 'page') : next())],
    });
    admin!.router.get('/added-later', (ctx) => {
      ctx.body = { added: true };
    });
    admin!.router.get('/admin/added-later', (ctx) => {
      ctx.body = { guarded: true };
    });
    expect((await get(`${base}/added-later`)).json()).toEqual({ added: true });
    expect((await get(`${base}/page`)).text).toBe('page');
    expect((await get(`${base}/admin/added-later`)).status).toBe(401);
    expect((await get(`${base}/admin/added-later`, { 'x-test-session': 'valid' })).json()).toEqual({ guarded: true });
    expect((await get(`${base}/admin/api/stats`, { 'x-test-session': 'forged' })).status).toBe(401);
  });

  it('answers bad requests with 400 and the error body', async () => {
    const { base } = await start('');
    const badLimit = await get(`${base}/admin/api/deliveries?limit=abc`);
    expect(badLimit.status).toBe(400);
    expect((await get(`${base}/admin/api/deliveries?status=lost`)).status).toBe(400);
    const post = async (path: string, body: string) => {
      const response = await request(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
    };
    expect(await post('/admin/api/replay', '{')).toMatchObject({ status: 400, json: { error: { code: 'HOOKRELAY_BAD_REQUEST' } } });
    expect(await post('/admin/api/replay', '{}')).toMatchObject({ status: 400, json: { error: { code: 'HOOKRELAY_USAGE' } } });
    expect(await post('/admin/api/replay', '{"ids":"x"}')).toMatchObject({ status: 400 });
    expect(await post('/admin/api/replay', '{"all":true,"since":"soon"}')).toMatchObject({ status: 400 });
    expect(await post('/admin/api/replay', '{"all":true,"dryRun":true}')).toEqual({ status: 200, json: { matched: 0, replayed: 0, dryRun: true } });
    expect(await post('/admin/api/redeliver', '{}')).toMatchObject({ status: 400 });
    expect(await post('/admin/api/redeliver', '{"eventId":"evt_nope"}')).toMatchObject({ status: 404, json: { error: { code: 'HOOKRELAY_EVENT_NOT_FOUND' } } });
  });

  it('reports observer events and store counts in /metrics with every label combination from the start', async () => {
    const { base, metrics } = await start('');
    let text = (await get(`${base}/metrics`)).text;
    expect(sample(text, 'hookrelay_events_received_total{source="github",outcome="rejected"}')).toBe(0);
    expect(sample(text, 'hookrelay_delivery_attempts_total{destination="audit",outcome="delivered"}')).toBe(0);
    expect(sample(text, 'hookrelay_circuit_open{destination="app"}')).toBe(0);
    expect(sample(text, 'hookrelay_deliveries{destination="app",status="in_flight"}')).toBe(0);

    metrics.received('cerebrium', 'accepted');
    metrics.received('cerebrium', 'accepted');
    metrics.received('github', 'duplicate');
    metrics.observer.attempted!('app', 'failed', 0.02);
    metrics.observer.attempted!('app', 'delivered', 0.3);
    metrics.observer.breakerChanged!('audit', 'open');
    metrics.observer.breakerChanged!('app', 'half_open');
    metrics.observer.breakerChanged!('app', 'closed');
    await ingest(fixture.store, 'r1', ['app', 'audit']);
    await ingest(fixture.store, 'r2', ['app']);
    await attemptAll(fixture.store, 'audit', { kind: 'dead' });

    text = (await get(`${base}/metrics`)).text;
    expect(sample(text, 'hookrelay_events_received_total{source="cerebrium",outcome="accepted"}')).toBe(2);
    expect(sample(text, 'hookrelay_events_received_total{source="github",outcome="duplicate"}')).toBe(1);
    expect(sample(text, 'hookrelay_delivery_attempts_total{destination="app",outcome="failed"}')).toBe(1);
    expect(sample(text, 'hookrelay_delivery_attempts_total{destination="app",outcome="delivered"}')).toBe(1);
    expect(sample(text, 'hookrelay_delivery_duration_seconds_count{destination="app"}')).toBe(2);
    expect(sample(text, 'hookrelay_delivery_duration_seconds_bucket{le="0.025",destination="app"}')).toBe(1);
    expect(sample(text, 'hookrelay_circuit_open{destination="audit"}')).toBe(1);
    expect(sample(text, 'hookrelay_circuit_open{destination="app"}')).toBe(0);
    expect(sample(text, 'hookrelay_deliveries{destination="app",status="pending"}')).toBe(2);
    expect(sample(text, 'hookrelay_deliveries{destination="audit",status="dead"}')).toBe(1);
    expect(sample(text, 'hookrelay_deliveries{destination="audit",status="pending"}')).toBe(0);
  });
});

describe('bearer token comparison', () => {
  it.each([
    ['Bearer tok', true],
    ['bearer tok', true],
    ['Bearer   tok ', true],
    ['Bearer tok2', false],
    ['Bearer to', false],
    ['Basic tok', false],
    ['Bearer', false],
    ['Bearer tok extra', false],
    ['', false],
    [undefined, false],
  ])('%j -> %s', (header, expected) => {
    expect(bearerMatches(header, 'tok')).toBe(expected);
  });
});

describe('send-test signs what the relay verifies', () => {
  const config = resolveConfig({
    server: { host: '0.0.0.0', port: 8080 },
    sources: [
      { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: ['first', 'second'] } },
      { name: 'sw', path: '/webhooks/sw', verify: { scheme: 'standard-webhooks', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] } },
      { name: 'github', path: '/webhooks/github', verify: { scheme: 'hmac-sha256', secrets: ['gh'], header: 'X-Hub-Signature-256' } },
      { name: 'open', path: '/webhooks/open', verify: { scheme: 'none' } },
    ],
  });
  const body = Buffer.from('{"run_id":"r-1"}');

  it.each(config.sources.map((source) => [source.name, source] as const))('%s', (_name, source) => {
    const now = Date.now();
    const signed = signTestCallback(source, body, 'application/json', now);
    expect(() => createVerifier(source.verify)(signed.headers, body, now)).not.toThrow();
    // One byte changed: the signature no longer matches (for every scheme that signs).
    if (source.verify.scheme !== 'none') {
      expect(() => createVerifier(source.verify)(signed.headers, Buffer.from('{"run_id":"r-2"}'), now)).toThrow();
    }
  });

  it('standard-webhooks signature verifies with the standardwebhooks package', () => {
    const source = config.sources.find((s) => s.name === 'sw')!;
    const signed = signTestCallback(source, body, 'application/json', Date.now());
    expect(new Webhook(source.verify.secrets[0]!).verify(body.toString(), signed.headers)).toEqual({ run_id: 'r-1' });
  });

  it('aims at the public listener: 0.0.0.0 means 127.0.0.1; --url overrides', () => {
    const source = config.sources[0]!;
    expect(sourceUrl(config, source)).toBe('http://127.0.0.1:8080/webhooks/cerebrium');
    expect(sourceUrl(config, source, 'http://relay.internal:9000')).toBe('http://relay.internal:9000/webhooks/cerebrium');
    expect(sourceUrl(config, source, 'https://relay.example/custom/path')).toBe('https://relay.example/custom/path');
    expect(() => sourceUrl(config, source, 'not a url')).toThrow(expect.objectContaining({ code: 'HOOKRELAY_USAGE' }));
  });
});
