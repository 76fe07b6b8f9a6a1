import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { errorBody, httpStatusFor } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { RunRegistration } from '../../src/operator/runs.js';
import { createSubmitProxy } from '../../src/runs/submit-proxy.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The proxy in a Koa app on 127.0.0.1, in front of an upstream whose answer each case sets. */
describe('submit proxy', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });
  const listen = async (server: Server) => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const setUp = async (answer: { status: number; type?: string; body: string }, record: (r: RunRegistration) => Promise<unknown> = async () => undefined) => {
    const seen: Seen[] = [];
    const upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json', 'x-upstream': 'yes' }).end(answer.body);
      });
    });
    const upstreamUrl = await listen(upstream);
    const recorded: RunRegistration[] = [];
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        ctx.status = httpStatusFor(error);
        ctx.body = errorBody(error);
      }
    });
    app.use(
      createSubmitProxy({
        cerebriumUrl: `${upstreamUrl}/base/`,
        webhookEndpoint: 'https://relay.example.com/webhooks/cerebrium',
        webhookSecret: 'the-secret',
        adminToken: 'admin-token',
        record: async (registration) => {
          recorded.push(registration);
          return record(registration);
        },
        logger: createLogger({ level: 'silent' }),
      }),
    );
    const proxyUrl = await listen(createServer(app.callback()));
    return { seen, recorded, proxyUrl };
  };

  const submit = (url: string, headers: Record<string, string> = {}) =>
    request(`${url}/cerebrium/v4/p-9/ocr/run?async=true&webhookEndpoint=https://x.example/a&webhookEndpoint=https://y.example/b`, {
      method: 'POST',
      headers: { authorization: 'Bearer caller-key', 'content-type': 'application/json', ...headers },
      body: '{"image":"…"}',
    });

  it('forwards path, query and body; sets webhookEndpoint (once) and the secret; records the run before answering unchanged', async () => {
    const { seen, recorded, proxyUrl } = await setUp({ status: 202, body: '{"run_id":"r-1","status":"queued"}' });
    const response = await submit(proxyUrl, { 'x-hookrelay-metadata': '{"doc":"d-1"}' });
    expect(response.statusCode).toBe(202);
    expect(response.headers['x-upstream']).toBe('yes');
    expect(await response.body.text()).toBe('{"run_id":"r-1","status":"queued"}');
    const [request0] = seen;
    const url = new URL(request0!.url, 'http://x');
    expect(url.pathname).toBe('/base/v4/p-9/ocr/run');
    expect(url.searchParams.get('async')).toBe('true');
    expect(url.searchParams.getAll('webhookEndpoint')).toEqual(['https://relay.example.com/webhooks/cerebrium']);
    expect(request0!.headers['x-webhook-secret']).toBe('the-secret');
    expect(request0!.headers.authorization).toBe('Bearer caller-key');
    expect(request0!.headers['x-hookrelay-metadata']).toBeUndefined();
    expect(request0!.body).toBe('{"image":"…"}');
    expect(recorded).toEqual([{ runId: 'r-1', project: 'p-9', app: 'ocr', metadata: { doc: 'd-1' } }]);
  });

  it('a runId key, a numeric run id, and an answer without one (not recorded)', async () => {
    const camel = await setUp({ status: 200, body: '{"runId":"r-2"}' });
    await (await submit(camel.proxyUrl)).body.text();
    expect(camel.recorded.map((r) => r.runId)).toEqual(['r-2']);
    const numeric = await setUp({ status: 202, body: '{"run_id":12345}' });
    await (await submit(numeric.proxyUrl)).body.text();
    expect(numeric.recorded.map((r) => r.runId)).toEqual(['12345']);
    const none = await setUp({ status: 202, body: '{"queued":true}' });
    expect(await (await submit(none.proxyUrl)).body.text()).toBe('{"queued":true}');
    expect(none.recorded).toEqual([]);
  });

  it('an error answer streams back unchanged and records nothing', async () => {
    const { recorded, proxyUrl } = await setUp({ status: 401, body: '{"message":"bad key"}' });
    const response = await submit(proxyUrl);
    expect(response.statusCode).toBe(401);
    expect(await response.body.text()).toBe('{"message":"bad key"}');
    expect(recorded).toEqual([]);
  });

  it('a run Cerebrium accepted but the relay could not record still reaches the caller, marked', async () => {
    const { proxyUrl } = await setUp({ status: 202, body: '{"run_id":"r-3"}' }, async () => {
      throw new Error('disk full');
    });
    const response = await submit(proxyUrl);
    expect(response.statusCode).toBe(202);
    expect(response.headers['hookrelay-run-recorded']).toBe('false');
    expect(await response.body.text()).toBe('{"run_id":"r-3"}');
  });

  it('never forwards the admin token or cookies; other methods are 405', async () => {
    const { seen, proxyUrl } = await setUp({ status: 202, body: '{"run_id":"r-4"}' });
    await (await submit(proxyUrl, { authorization: 'Bearer admin-token', cookie: 'session=1' })).body.text();
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers.cookie).toBeUndefined();
    const get = await request(`${proxyUrl}/cerebrium/v4/p/a/run`, { method: 'GET' });
    expect(get.statusCode).toBe(405);
    await get.body.dump();
    expect(seen).toHaveLength(1);
  });
});
