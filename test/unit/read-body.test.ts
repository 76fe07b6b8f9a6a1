import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
import { readRawBody } from '../../src/http/read-body.js';

type Outcome = { body: Buffer } | { code: string; requestEnded: boolean };

/** A real server on 127.0.0.1 that reads each request with `readRawBody(limit)` and reports the outcome. */
async function serverReading(limit: number): Promise<{ port: number; outcomes: Promise<Outcome>[]; server: Server }> {
  const outcomes: Promise<Outcome>[] = [];
  const server = createServer((req, res) => {
    const outcome = readRawBody(req, limit).then(
      (body): Outcome => ({ body }),
      (error: unknown): Outcome => ({ code: isHookrelayError(error) ? error.code : String(error), requestEnded: req.readableEnded }),
    );
    outcomes.push(outcome);
    void outcome.then(() => {
      if (!res.destroyed) res.end('done');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, outcomes, server };
}

function send(port: number, chunks: Buffer[], headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('readRawBody', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('returns the exact bytes, across chunks, up to and including the limit', async () => {
    const { port, outcomes, server } = await serverReading(10);
    servers.push(server);
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0x7b, 0x7d, 0xc3, 0x28]);
    await send(port, [bytes.subarray(0, 3), bytes.subarray(3)]);
    const outcome = (await outcomes[0]) as { body: Buffer };
    expect(outcome.body.equals(bytes)).toBe(true);
  });

  it('an empty body is an empty buffer', async () => {
    const { port, outcomes, server } = await serverReading(10);
    servers.push(server);
    await send(port, [], { 'content-length': '0' });
    expect(((await outcomes[0]) as { body: Buffer }).body.length).toBe(0);
  });

  it.each([
    ['declared with Content-Length', { 'content-length': '11' }],
    ['chunked', { 'transfer-encoding': 'chunked' }],
  ])('one byte over the limit, %s: HOOKRELAY_BODY_TOO_LARGE, only after the whole body was read', async (_name, headers) => {
    const { port, outcomes, server } = await serverReading(10);
    servers.push(server);
    const status = await send(port, [Buffer.alloc(5, 1), Buffer.alloc(6, 2)], headers);
    expect(status).toBe(200);
    expect(await outcomes[0]).toEqual({ code: 'HOOKRELAY_BODY_TOO_LARGE', requestEnded: true });
  });

  it('a client that goes away mid-body: HOOKRELAY_BODY_INCOMPLETE', async () => {
    const { port, outcomes, server } = await serverReading(1000);
    servers.push(server);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': '100' }, agent: false });
    req.on('error', () => {});
    req.write(Buffer.alloc(10, 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const outcome = await Promise.race([outcomes[0], new Promise((resolve) => setTimeout(() => resolve('pending'), 5_000))]);
    expect(outcome).toMatchObject({ code: 'HOOKRELAY_BODY_INCOMPLETE' });
  });

  it('a client that goes away while an over-limit body is drained: the read still ends (as too large)', async () => {
    const { port, outcomes, server } = await serverReading(10);
    servers.push(server);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': '1000' }, agent: false });
    req.on('error', () => {});
    req.write(Buffer.alloc(20, 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    const outcome = await Promise.race([outcomes[0], new Promise((resolve) => setTimeout(() => resolve('pending'), 5_000))]);
    expect(outcome).toMatchObject({ code: 'HOOKRELAY_BODY_TOO_LARGE' });
  });
});
