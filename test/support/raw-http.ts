import { connect, type Socket } from 'node:net';
import { sleep } from './wait.js';

/** What came back on a raw connection: a status code, or the connection closing without one. */
export type RawOutcome = { status: number; head: string } | { status: null; closedAfterMs: number };

/**
 * Writes exact bytes (duplicated headers, broken chunking, anything) to 127.0.0.1:port and
 * reads the status line of the answer. `dribbleMs` writes the request one byte at a time
 * with that pause; `endAfterWrite: false` keeps the connection open after writing (a client
 * that stops midway); `abortAfterWrite` destroys it right after writing.
 */
export function rawExchange(
  port: number,
  request: Buffer,
  { timeoutMs = 10_000, dribbleMs = 0, abortAfterWrite = false }: { timeoutMs?: number; dribbleMs?: number; abortAfterWrite?: boolean } = {},
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ status: null, closedAfterMs: Number.POSITIVE_INFINITY }), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (match && received.includes('\r\n\r\n')) finish({ status: Number(match[1]), head: received.slice(0, received.indexOf('\r\n\r\n')) });
    });
    socket.on('error', () => finish({ status: null, closedAfterMs: Date.now() - started }));
    socket.on('close', () => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      finish(match ? { status: Number(match[1]), head: received } : { status: null, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', async () => {
      if (dribbleMs > 0) {
        for (const byte of request) {
          if (settled || socket.destroyed) return;
          socket.write(Buffer.from([byte]));
          await sleep(dribbleMs);
        }
      } else {
        socket.write(request);
      }
      if (abortAfterWrite) {
        // Give the bytes a moment to leave, then vanish mid-request.
        await sleep(50);
        finish({ status: null, closedAfterMs: Date.now() - started });
      }
    });
  });
}

/** What one connection carried back: every status line in order, and whether the server closed it. */
export interface RawConversation {
  statuses: number[];
  /** The server closed the connection (FIN or reset) before `timeoutMs`. */
  closed: boolean;
  text: string;
}

/**
 * Writes `request` (several pipelined requests, malformed ones included) on ONE connection and
 * reads every answer until the server closes it or `timeoutMs` passes. Bodies of the answers
 * must not contain status lines themselves (the relay's JSON bodies do not).
 */
export function rawConversation(port: number, request: Buffer, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<RawConversation> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const statuses = [...received.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
      resolve({ statuses, closed, text: received });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => socket.write(request));
  });
}

/**
 * Builds a raw HTTP/1.1 request; headers may repeat (pairs, in order). It asks the server to
 * close the connection after its answer unless `keepAlive` (for pipelining several on one).
 */
export function rawRequest(method: string, path: string, headers: [string, string][], body: Buffer | null, { keepAlive = false }: { keepAlive?: boolean } = {}): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', ...headers.map(([name, value]) => `${name}: ${value}`)];
  if (body !== null && !headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name))) lines.push(`content-length: ${body.length}`);
  if (!keepAlive) lines.push('connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}
