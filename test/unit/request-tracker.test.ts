import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { trackRequests, type RequestTracker } from '../../src/ingress/request-tracker.js';
import { waitFor } from '../support/wait.js';
import { rawConversation, rawRequest } from '../support/raw-http.js';

/**
 * The tracker on a real node:http server whose handler answers only when the test says so
 * (as ingress answers only after its commit): malformed HTTP is answered after the requests
 * before it, and nothing is left counted in flight.
 */
interface Harness {
  port: number;
  tracker: RequestTracker;
  /** Requests whose body has been read, waiting for their answer, in arrival order. */
  waiting: { path: string; answer(): void }[];
  clientErrors: string[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function startServer(): Promise<Harness> {
  const waiting: Harness['waiting'] = [];
  const clientErrors: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    tracker.track(req, res);
    req.resume();
    req.on('end', () => waiting.push({ path: req.url ?? '', answer: () => res.end(`answer for ${req.url}`) }));
  });
  const tracker = trackRequests(server);
  server.on('clientError', (error: Error & { code?: string }) => clientErrors.push(error.code ?? 'unknown'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, tracker, waiting, clientErrors };
}

const good = (path: string) => rawRequest('POST', path, [], Buffer.from('{}'), { keepAlive: true });
const badChunk = (path: string) => rawRequest('POST', path, [['transfer-encoding', 'chunked']], Buffer.from('2\r\n{}\r\nzz\r\n'), { keepAlive: true });
const twoLengths = (path: string) => rawRequest('POST', path, [['content-length', '2'], ['content-length', '3']], Buffer.from('{}x'), { keepAlive: true });

describe('request tracker', () => {
  it('good, good, bad pipelined: both answers in order, then 400 and close; nothing left in flight', async () => {
    const harness = await startServer();
    const conversation = rawConversation(harness.port, Buffer.concat([good('/a'), good('/b'), twoLengths('/c')]));
    await waitFor(() => harness.waiting.length === 2 && harness.clientErrors.length === 1, { what: 'two requests and the parse error' });
    expect(harness.tracker.inFlight()).toBe(2);
    for (const request of harness.waiting) request.answer();
    const result = await conversation;
    expect(result.statuses).toEqual([200, 200, 400]);
    expect(result.text.indexOf('answer for /a')).toBeLessThan(result.text.indexOf('answer for /b'));
    expect(result.closed).toBe(true);
    expect(harness.tracker.inFlight()).toBe(0);
  });

  it('answers produced out of order (the later request first) still go out in order, the 400 last', async () => {
    const harness = await startServer();
    const conversation = rawConversation(harness.port, Buffer.concat([good('/a'), good('/b'), good('/c'), twoLengths('/d')]));
    await waitFor(() => harness.waiting.length === 3 && harness.clientErrors.length === 1, { what: 'three requests and the parse error' });
    for (const request of [...harness.waiting].reverse()) request.answer();
    const result = await conversation;
    expect(result.statuses).toEqual([200, 200, 200, 400]);
    const positions = ['answer for /a', 'answer for /b', 'answer for /c', 'HTTP/1.1 400'].map((text) => result.text.indexOf(text));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(harness.tracker.inFlight()).toBe(0);
  });

  it('a body that breaks mid-read stops counting at once and is answered 400 without waiting for it', async () => {
    const harness = await startServer();
    const result = await rawConversation(harness.port, badChunk('/broken'), { timeoutMs: 5_000 });
    expect(result).toMatchObject({ statuses: [400], closed: true });
    expect(harness.waiting).toEqual([]);
    await waitFor(() => harness.tracker.inFlight() === 0, { what: 'the broken request to stop counting' });
  });

  it('a client that goes away with answers still queued leaves nothing counted (a queued response never emits close)', async () => {
    const harness = await startServer();
    const socket = connect(harness.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(Buffer.concat([good('/first'), good('/second')]));
    await waitFor(() => harness.waiting.length === 2, { what: 'both requests' });
    expect(harness.tracker.inFlight()).toBe(2);
    socket.destroy();
    await waitFor(() => harness.tracker.inFlight() === 0, { timeoutMs: 5_000, what: 'nothing in flight after the close' });
  });

  it('a parse error on a fresh connection is answered 400 with a JSON error body', async () => {
    const harness = await startServer();
    const result = await rawConversation(harness.port, Buffer.from('NOT HTTP AT ALL\r\n\r\n'), { timeoutMs: 5_000 });
    expect(result).toMatchObject({ statuses: [400], closed: true });
    expect(result.text).toContain('"code":"HOOKRELAY_BAD_REQUEST"');
  });
});
