import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminListener, type AdminListener } from '../../src/admin/app.js';
import { createDashboard } from '../../src/admin/dashboard/dashboard.js';
import { createMetrics } from '../../src/admin/metrics.js';
import { createRunTracking } from '../../src/runs/run-tracking.js';
import { rawConversation, rawRequest } from '../support/raw-http.js';
import { operatorFixture, type Fixture } from '../support/operator-fixtures.js';

const TOKEN = 'body-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };
const KIB = 1024;

/**
 * Writes `request` whole, as clients that read only after sending do, then reads the status of
 * the answer: `writeError` is the write's error code (EPIPE, ECONNRESET) when the server closed
 * the connection before it had taken every byte.
 */
function writeAllThenRead(port: number, request: Buffer): Promise<{ writeError: string | null; status: number | null }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let writeError: string | null = null;
    const timer = setTimeout(() => socket.destroy(), 20_000);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => (writeError ??= error.code ?? error.message));
    socket.on('close', () => {
      clearTimeout(timer);
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve({ writeError, status: match ? Number(match[1]) : null });
    });
    socket.write(request);
  });
}

/** What the stand-in Cerebrium received: the sha256 and size of each submission's body. */
interface Received {
  sha256: string;
  size: number;
}

/**
 * The admin listener's JSON bodies and query strings (koa-body + the zod schemas), in process
 * on a real store, mounted as `serve` mounts them (run tracking, dashboard): the limits per
 * route, the 400s naming the field, the 413 answered only once the body was read (the next
 * request on the connection is still answered), and no body parser in front of the submit proxy.
 */
describe('admin listener request bodies', () => {
  let fixture: Fixture;
  let admin: AdminListener | null = null;
  let upstream: Server | null = null;
  let port = 0;
  let base = '';
  const received: Received[] = [];
  // One listener for every case: each case uses its own run ids, and only one submits through the proxy.
  beforeAll(async () => {
    base = await start();
  });
  afterAll(async () => {
    await admin?.close();
    upstream?.closeAllConnections();
    await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)));
    await fixture?.close();
  });

  async function start(): Promise<string> {
    upstream = createServer((req, res) => {
      const hash = createHash('sha256');
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      req.on('end', () => {
        received.push({ sha256: hash.digest('hex'), size });
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ run_id: `run-${received.length}` }));
      });
    });
    await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
    fixture = operatorFixture({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: ['s3cret'] } }],
      destinations: [{ name: 'app', url: 'http://127.0.0.1:9/app' }],
      runs: { source: 'cerebrium', publicUrl: 'https://relay.example.com', cerebriumUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
    });
    const logger = pino({ level: 'silent' });
    const operator = { config: fixture.config, store: fixture.store };
    const metrics = createMetrics({ config: fixture.config, store: fixture.store, processMetrics: false });
    const dashboard = createDashboard({ operator });
    const tracking = createRunTracking({ config: fixture.config, store: fixture.store, logger, wake: () => {} })!;
    admin = createAdminListener({
      config: fixture.config,
      store: fixture.store,
      logger,
      metrics,
      allowRequest: (ctx) => dashboard.session.allowsCookieRequest(ctx, Date.now()),
      routes: [...tracking.adminRoutes, dashboard.api, dashboard.pages],
      forwardedPrefixes: tracking.forwardedPrefixes,
    });
    port = await admin.listen();
    return `http://127.0.0.1:${port}`;
  }

  async function call(method: string, path: string, body?: string) {
    const response = await request(`${base}${path}`, { method: method as 'GET', headers: { ...AUTH, ...(body === undefined ? {} : JSON_TYPE) }, body });
    const text = await response.body.text();
    return { status: response.statusCode, json: text === '' ? undefined : (JSON.parse(text) as { error?: { code: string; message: string } }) };
  }

  it.each([
    ['POST', '/admin/api/replay', '{', 'the body is not a JSON object'],
    ['POST', '/admin/api/replay', '"all"', 'the body is not a JSON object'],
    ['POST', '/admin/api/replay', '[{"all":true}]', 'the body must be a JSON object'],
    ['POST', '/admin/api/replay', '{"ids":"x"}', 'ids: expected an array of delivery ids'],
    // The key path of a wrong element, as config errors name keys; every wrong key, not only the first.
    ['POST', '/admin/api/replay', '{"ids":["a",2]}', 'ids[1]: expected a delivery id (a string)'],
    ['POST', '/admin/api/replay', '{"all":"yes","dryRun":1}', 'all: expected true or false; dryRun: expected true or false'],
    ['POST', '/admin/api/replay', '{"destination":5}', 'destination: expected a string'],
    ['POST', '/admin/api/replay', '{"all":"yes"}', 'all: expected true or false'],
    ['POST', '/admin/api/replay', '{"all":true,"since":{}}', 'since: expected a duration or an ISO-8601 time'],
    ['POST', '/admin/api/replay', '{"all":true,"dryRun":1}', 'dryRun: expected true or false'],
    ['POST', '/admin/api/redeliver', '', 'eventId: expected a non-empty string'],
    ['POST', '/admin/api/redeliver', '{"eventId":""}', 'eventId: expected a non-empty string'],
    ['POST', '/admin/api/redeliver', '{"eventId":"e","destination":3}', 'destination: expected a string'],
    ['POST', '/admin/api/runs', '{"runId":7}', 'runId: expected a non-empty string'],
    ['POST', '/admin/api/runs', '{"runId":"r","app":1}', 'app: expected a string'],
    ['POST', '/admin/api/runs', '{"runId":"r","project":[]}', 'project: expected a string'],
    ['POST', '/admin/api/runs', '{"runId":"r","metadata":[1]}', 'metadata: expected a JSON object'],
    ['POST', '/login', '{}', 'token: expected a string'],
    ['POST', '/login', '{"token":1}', 'token: expected a string'],
    ['GET', '/admin/api/deliveries?limit=abc', undefined, 'limit: expected a positive integer'],
    ['GET', '/admin/api/dead-letters?limit=1x', undefined, 'limit: expected a positive integer'],
    ['GET', '/admin/api/events?limit=5&limit=-1', undefined, 'limit: expected a positive integer'],
    ['GET', '/admin/api/runs?limit=1e3', undefined, 'limit: expected a positive integer'],
    ['GET', '/admin/api/runs?status=late', undefined, 'status: expected one of submitted, completed, overdue, lost'],
    ['GET', '/admin/api/runs?status=lost&status=late', undefined, 'status: expected one of submitted, completed, overdue, lost'],
    ['GET', '/admin/api/dashboard/deliveries?status=dead&limit=-5', undefined, 'limit: expected a positive integer'],
  ])('%s %s %s -> 400 "%s"', async (method, path, body, message) => {
    expect(await call(method, path, body)).toEqual({ status: 400, json: { error: { code: 'HOOKRELAY_BAD_REQUEST', message } } });
  });

  // The values the CLI reads the same way keep the CLI's check and code (both 400).
  it.each([
    ['/admin/api/deliveries?status=late', 'status must be one of pending, in_flight, delivered, dead'],
    ['/admin/api/dashboard/deliveries?status=late', 'status must be one of pending, in_flight, delivered, dead'],
    ['/admin/api/dead-letters?since=soon', '--since: expected a duration like "30m", "12h", "2d" or an ISO-8601 time, got "soon"'],
  ])('GET %s -> 400 HOOKRELAY_USAGE', async (path, message) => {
    expect(await call('GET', path)).toEqual({ status: 400, json: { error: { code: 'HOOKRELAY_USAGE', message } } });
  });

  it('accepts what the schemas allow: empty body as {}, nulls for optional fields, unknown fields, the last of a repeated query value', async () => {
    // An empty body reads as {}: the replay then has no selector (the CLI's usage error).
    expect((await call('POST', '/admin/api/replay', '')).json?.error?.code).toBe('HOOKRELAY_USAGE');
    expect(await call('POST', '/admin/api/replay', '{"all":true,"since":null,"dryRun":true,"extra":[1]}')).toEqual({
      status: 200,
      json: { matched: 0, replayed: 0, dryRun: true },
    });
    expect((await call('POST', '/admin/api/replay', '{"all":true,"since":"soon"}')).json?.error?.code).toBe('HOOKRELAY_USAGE');
    expect((await call('POST', '/admin/api/redeliver', '{"eventId":"evt_nope","destination":null}')).json?.error?.code).toBe('HOOKRELAY_EVENT_NOT_FOUND');
    const registered = await call('POST', '/admin/api/runs', '{"runId":"r-1","app":null,"project":"p","metadata":{"invoice":7}}');
    expect(registered.status).toBe(201);
    expect(registered.json).toMatchObject({ runId: 'r-1', app: null, metadata: { invoice: 7 } });
    expect((await call('GET', '/admin/api/runs?limit=abc&limit=1&status=')).status).toBe(200);
    expect((await call('GET', '/admin/api/events?limit=')).status).toBe(200);
  });

  it.each(['[1]', '{', '"text"'])('the submit proxy refuses X-Hookrelay-Metadata %s with 400 and forwards nothing', async (metadata) => {
    const response = await request(`${base}/cerebrium/v4/project/app/run`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: 'Bearer cerebrium-key', 'x-hookrelay-metadata': metadata },
      body: '{}',
    });
    expect(response.statusCode).toBe(400);
    expect(await response.body.json()).toEqual({
      error: { code: 'HOOKRELAY_BAD_REQUEST', message: 'X-Hookrelay-Metadata: expected a JSON object; nothing was forwarded' },
    });
    expect(received).toEqual([]);
  });

  const routes: [string, string, number, (padding: string) => string, number][] = [
    ['the API', '/admin/api/replay', 4 * KIB * KIB, (pad) => JSON.stringify({ all: true, dryRun: true, pad }), 200],
    ['run registration', '/admin/api/runs', 256 * KIB, (pad) => JSON.stringify({ runId: 'padded', pad }), 201],
    ['sign-in', '/login', 4 * KIB, (pad) => JSON.stringify({ token: TOKEN, pad }), 204],
  ];

  /** `build(padding)` padded to exactly `size` bytes. */
  const sized = (build: (pad: string) => string, size: number) => Buffer.from(build('a'.repeat(size - build('').length)));

  it.each(routes)('%s (%s) reads a body of exactly %i bytes', async (_name, path, limit, build, status) => {
    const body = sized(build, limit);
    expect(body.length).toBe(limit);
    const response = await request(`${base}${path}`, { method: 'POST', headers: { ...AUTH, ...JSON_TYPE }, body });
    await response.body.text();
    expect(response.statusCode).toBe(status);
  });

  it.each(routes)('%s (%s): one byte over %i -> a readable 413, declared or chunked, and the connection goes on', async (_name, path, limit, build) => {
    const body = sized(build, limit + 1);
    const headers: [string, string][] = [...Object.entries({ ...AUTH, ...JSON_TYPE })];
    const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    for (const tooLarge of [
      rawRequest('POST', path, headers, body, { keepAlive: true }),
      rawRequest('POST', path, [...headers, ['transfer-encoding', 'chunked']], chunked, { keepAlive: true }),
    ]) {
      // The next request on the same connection is answered only if the 413's body was read to its end first.
      const conversation = await rawConversation(port, Buffer.concat([tooLarge, rawRequest('GET', '/admin/api/stats', headers, null)]), { timeoutMs: 20_000 });
      expect(conversation.statuses).toEqual([413, 200]);
      expect(conversation.text).toContain(`{"error":{"code":"HOOKRELAY_BODY_TOO_LARGE","message":"body exceeds ${limit} bytes"}}`);
    }
  });

  it.each(routes)('%s (%s): a client that writes a body far over %i before reading gets its whole body taken, then the 413', async (_name, path, _limit, build) => {
    const headers: [string, string][] = [...Object.entries({ ...AUTH, ...JSON_TYPE })];
    // Far over every limit and the socket buffers: answering before the body is read would close the connection under the writes.
    const body = sized(build, 8 * KIB * KIB);
    const outcome = await writeAllThenRead(port, rawRequest('POST', path, headers, body));
    expect(outcome).toEqual({ writeError: null, status: 413 });
  });

  it('the submit proxy streams a body larger than every JSON limit to Cerebrium byte for byte', async () => {
    const body = Buffer.from(JSON.stringify({ input: 'x'.repeat(5 * KIB * KIB), note: 'ünïcödé' }));
    const response = await request(`${base}/cerebrium/v4/project/app/run`, { method: 'POST', headers: { ...JSON_TYPE, authorization: 'Bearer cerebrium-key' }, body });
    expect(response.statusCode).toBe(202);
    expect(await response.body.json()).toEqual({ run_id: 'run-1' });
    expect(received).toEqual([{ sha256: createHash('sha256').update(body).digest('hex'), size: body.length }]);
    expect((await call('GET', '/admin/api/runs/run-1')).json).toMatchObject({ runId: 'run-1', app: 'app', status: 'submitted' });
  });
});
