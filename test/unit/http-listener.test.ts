import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpListener, type HttpListener } from '../../src/http/listener.js';
import { waitFor } from '../support/wait.js';

/**
 * The listener both relay listeners share, on a real server on 127.0.0.1 port 0, whose handler
 * answers only when the test says so: what close() does to requests in flight, to open
 * keep-alive connections and to new connections.
 */
interface Harness {
  listener: HttpListener;
  port: number;
  /** Requests received and not answered yet, in arrival order. */
  waiting: { path: string; answer(): void }[];
  inFlight(): number;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<Harness> {
  const waiting: Harness['waiting'] = [];
  let active = 0;
  const listener = createHttpListener(
    (req: IncomingMessage, res: ServerResponse) => {
      active++;
      res.once('close', () => active--);
      req.resume();
      req.on('end', () => waiting.push({ path: req.url ?? '', answer: () => res.end(`answer for ${req.url}`) }));
    },
    { host: '127.0.0.1', port: 0, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 },
  );
  const port = await listener.listen();
  cleanups.push(() => {
    listener.server.closeAllConnections();
    return listener.close({ graceMs: 0 });
  });
  return { listener, port, waiting, inFlight: () => active };
}

/** One raw client connection: what it received, and whether the server closed it. */
interface Client {
  socket: Socket;
  text(): string;
  closed(): boolean;
  send(path: string): void;
}

async function client(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  let received = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  return {
    socket,
    text: () => received,
    closed: () => closed,
    send: (path) => socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`),
  };
}

/** How a new connection to the port ends: 'connected' or the error code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('http listener: listen, drain, close', () => {
  it('close refuses new connections, waits for the request in flight to be answered, then closes its connection', async () => {
    const harness = await start();
    const busy = await client(harness.port);
    busy.send('/slow');
    await waitFor(() => harness.waiting.length === 1, { what: 'the request to arrive' });
    let closed = false;
    const closing = harness.listener.close({ graceMs: 60_000, inFlight: harness.inFlight }).then(() => (closed = true));
    expect(await tryConnect(harness.port)).toBe('ECONNREFUSED');
    expect(closed).toBe(false);
    harness.waiting[0]!.answer();
    await closing;
    expect(busy.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(busy.text()).toContain('answer for /slow');
    await waitFor(() => busy.closed(), { what: 'the connection to close' });
  });

  it('a request arriving on an open keep-alive connection while closing is answered with Connection: close; idle connections are then closed', async () => {
    const harness = await start();
    const kept = await client(harness.port);
    const idle = await client(harness.port);
    kept.send('/first');
    await waitFor(() => harness.waiting.length === 1, { what: 'the first request' });
    harness.waiting[0]!.answer();
    await waitFor(() => kept.text().includes('answer for /first'), { what: 'the first answer' });
    expect(kept.text().toLowerCase()).not.toContain('connection: close');

    // A long grace: close resolves only because the idle connections were closed, not by the deadline.
    const closing = harness.listener.close({ graceMs: 600_000, inFlight: harness.inFlight });
    kept.send('/second');
    await waitFor(() => harness.waiting.length === 2, { what: 'the second request, on the kept-alive connection' });
    harness.waiting[1]!.answer();
    await closing;
    const second = kept.text().slice(kept.text().indexOf('answer for /first'));
    expect(second).toMatch(/HTTP\/1\.1 200 OK\r\n/);
    expect(second.toLowerCase()).toContain('connection: close');
    await waitFor(() => kept.closed() && idle.closed(), { what: 'both connections to close' });
    expect(idle.text()).toBe('');
  });

  it('without a count of requests in flight, close waits for open connections; one still busy at graceMs is cut', async () => {
    const harness = await start();
    const busy = await client(harness.port);
    busy.send('/never-answered');
    await waitFor(() => harness.waiting.length === 1, { what: 'the request to arrive' });
    await harness.listener.close({ graceMs: 700 });
    await waitFor(() => busy.closed(), { what: 'the busy connection to be cut' });
    expect(busy.text()).toBe('');
  });

  it('close called twice waits for the same close; listen reports a port in use', async () => {
    const harness = await start();
    const other = createHttpListener(() => {}, { host: '127.0.0.1', port: harness.port, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 });
    await expect(other.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const first = harness.listener.close({ graceMs: 1_000 });
    expect(harness.listener.close({ graceMs: 0 })).toBe(first);
    await first;
    expect(harness.listener.server.listening).toBe(false);
  });
});
