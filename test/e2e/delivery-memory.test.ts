import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { TEST_SECRET } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';
import { stats, workspace } from '../support/delivery.js';

const MB = 1024 * 1024;
const EVENTS = 12;
const BODY_BYTES = 30 * MB;

/** Peak resident memory of a process (VmHWM), in bytes. */
function peakRssBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

interface HoldingSink {
  url: string;
  /** sha256 of each received body, by webhook-id, in arrival order. */
  received: { id: string; sha256: string }[];
  /** Lets every held request (and every later one) get its 200. */
  open(): void;
  close(): Promise<void>;
}

/**
 * A destination that reads each body (hashing it, keeping nothing) and then holds its answer
 * until `open()`: a slow receiver behind which a backlog of large bodies piles up.
 */
async function startHoldingSink(): Promise<HoldingSink> {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const received: HoldingSink['received'] = [];
  const server: Server = createServer((req, res) => {
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => hash.update(chunk));
    req.on('end', () => {
      received.push({ id: String(req.headers['webhook-id']), sha256: hash.digest('hex') });
      void opened.then(() => res.end('ok'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    open,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('delivery: bounded memory', () => {
  it('12 x 30 MB bodies behind a slow destination: serve peaks at <= 700 MB and delivers all byte-identical', async ({ cleanup, startRelay }) => {
    const sink = await startHoldingSink();
    cleanup.add(() => sink.close());
    const ws = workspace(cleanup, {
      server: { host: '127.0.0.1', port: 0, maxBodyBytes: 64 * MB },
      destinations: [{ name: 'slow', url: sink.url, timeoutMs: 120_000, circuitBreaker: { volumeThreshold: 100_000 } }],
      log: { level: 'warn' },
    });
    const relayProcess = await startRelay(ws.configPath);

    // One shared random filler (base64: valid JSON text); each event differs in its run_id.
    const filler = randomBytes((BODY_BYTES * 3) / 4).toString('base64');
    const expected = new Map<string, string>();
    for (let index = 0; index < EVENTS; index++) {
      const body = Buffer.from(`{"run_id":"memory-${index}","pad":"${filler}"}`);
      const answer = await post(`${relayProcess.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }));
      expect(answer.status).toBe(202);
      expected.set(String(answer.json!.id), createHash('sha256').update(body).digest('hex'));
    }
    // Every event is stored while the destination still holds its first answers: the backlog is complete.
    expect((await stats(ws.configPath)).deliveries.delivered).toBe(0);
    sink.open();
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === EVENTS, {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: `${EVENTS} delivered`,
    });

    // The relay process, not the supervisor `serve` runs it under.
    const peak = peakRssBytes(relayProcess.relayPid);
    console.log(`relay VmHWM with ${EVENTS} x ${BODY_BYTES / MB} MB bodies: ${Math.round(peak / MB)} MB`);
    expect(peak).toBeLessThanOrEqual(700 * MB);
    expect(sink.received).toHaveLength(EVENTS);
    expect(new Map(sink.received.map(({ id, sha256 }) => [id, sha256]))).toEqual(expected);
  }, 240_000);
});
