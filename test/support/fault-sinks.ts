import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { ServerResponse } from 'node:http';
import { startSink, type Sink, type SinkBehaviour } from './sink.js';
import { sleep } from './wait.js';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Cuts the connection in the middle of the response head: the status line never completes. */
export const resetMidResponse: SinkBehaviour = (_request, response) => {
  response.socket?.write('HTTP/1.1 200 OK\r\nContent-Ty');
  response.socket?.destroy();
  return 'handled';
};

/** Never answers. */
export const hang: SinkBehaviour = () => new Promise<'handled'>(() => undefined);

/** Answers 200 at once, then dribbles the body one byte every `intervalMs` for `totalMs`. */
export function slowBody(intervalMs: number, totalMs: number): SinkBehaviour {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    const started = Date.now();
    const timer = setInterval(() => {
      if (response.destroyed || Date.now() - started > totalMs) {
        clearInterval(timer);
        if (!response.destroyed) response.end();
        return;
      }
      response.write('x');
    }, intervalMs);
    response.on('close', () => clearInterval(timer));
    return 'handled';
  };
}

/** Answers `status` with a body of `totalBytes` streamed as fast as the reader takes it; counts what was written. */
export function hugeBody(status: number, totalBytes: number, written: { bytes: number }): SinkBehaviour {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  return (_request, response: ServerResponse) => {
    response.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': String(totalBytes) });
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes && !response.destroyed) {
        const size = Math.min(chunk.length, totalBytes - sent);
        sent += size;
        written.bytes += size;
        if (!response.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
          response.once('drain', pump);
          return;
        }
      }
      if (!response.destroyed) response.end();
    };
    pump();
    return 'handled';
  };
}

/** Fails the first attempt of each webhook-id with 429 and `Retry-After: <seconds>`, then accepts. */
export function tooManyThenOk(retryAfterSeconds: number): SinkBehaviour {
  const seen = new Set<string>();
  return (request, response) => {
    const id = String(request.headers['webhook-id']);
    if (seen.has(id)) return 200;
    seen.add(id);
    response.writeHead(429, { 'retry-after': String(retryAfterSeconds) });
    response.end('slow down');
    return 'handled';
  };
}

/** A destination on a fixed port that is down, then up, for `periodMs` each, from `start()` until stopped. */
export interface FlappingSink {
  url: string;
  /** Every request received by any of its incarnations. */
  received: Sink['received'];
  /** Begins flapping with a down phase (it is down until then as well). */
  start(): void;
  stop(): Promise<void>;
}

export async function startFlappingSink(periodMs: number): Promise<FlappingSink> {
  const first = await startSink();
  const port = first.port;
  await first.close();
  const received: Sink['received'] = [];
  let current: Sink | null = null;
  let running = true;
  let loop: Promise<void> = Promise.resolve();
  const collect = (from: Sink) => received.push(...from.received.splice(0));
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    get received() {
      if (current) collect(current);
      return received;
    },
    start: () => {
      loop = (async () => {
        while (running) {
          await sleep(periodMs);
          if (!running) break;
          current = await startSink(() => 200, port);
          await sleep(periodMs);
          collect(current);
          await current.close();
          current = null;
        }
      })();
    },
    stop: async () => {
      running = false;
      await loop;
      if (current) {
        collect(current);
        await current.close();
        current = null;
      }
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}
