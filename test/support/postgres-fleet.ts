import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from './relay.mjs';
import { cerebriumRequest } from './signed-request.js';
import { runCli } from './cli.mjs';
import { waitFor } from './wait.js';
import type { Sink } from './sink.js';

/**
 * Several real `serve` processes on one PostgreSQL schema, each with its own config file
 * (as separate machines would have), and a sender that behaves like Cerebrium.
 */
export interface RelayFleet {
  relays: (RelayProcess | null)[];
  configPaths: string[];
  /** Starts relay `index` again with its own config (a redeploy). */
  restart(index: number): Promise<RelayProcess>;
  /** URLs of the relays currently running (what a load balancer would route to). */
  urls(): string[];
  stopAll(): Promise<void>;
}

export interface FleetOptions {
  dir: string;
  count: number;
  postgresUrl: string;
  schema: string;
  sink: Sink;
  destination?: Record<string, unknown>;
  /** More top-level config (e.g. `admin`). */
  extra?: Record<string, unknown>;
}

export async function startFleet(options: FleetOptions): Promise<RelayFleet> {
  const configPaths = Array.from({ length: options.count }, (_, index) => {
    const dir = join(options.dir, `relay-${index}`);
    mkdirSync(dir, { recursive: true });
    return writeConfig(
      dir,
      relayConfig(dir, {
        storage: { postgres: { url: options.postgresUrl, schema: options.schema, poolSize: 6 } },
        destinations: [{ name: 'app', url: options.sink.url, ...options.destination }],
        ...options.extra,
      }),
    );
  });
  const relays: (RelayProcess | null)[] = await Promise.all(configPaths.map((path) => startRelay(path, { timeoutMs: 30_000 })));
  return {
    relays,
    configPaths,
    async restart(index) {
      relays[index] = null;
      const relay = await startRelay(configPaths[index]!, { timeoutMs: 30_000 });
      relays[index] = relay;
      return relay;
    },
    urls: () => relays.filter((relay): relay is RelayProcess => relay !== null && relay.child.exitCode === null && relay.child.signalCode === null).map((relay) => relay.url),
    async stopAll() {
      await Promise.all(relays.map((relay) => relay?.kill()));
    },
  };
}

export type SendOutcome =
  | { kind: 'acknowledged'; id: string; duplicate: boolean; tries: number }
  | { kind: 'gave-up'; reason: string; tries: number };

/**
 * Posts one signed result the way Cerebrium does: a refused connection, a timeout or a 404
 * is tried again (up to 3 more times, about a second apart, within ~5 s); a 5xx or another
 * 4xx is never retried. `pickUrl` chooses the relay for each try (a load balancer).
 */
export async function sendLikeCerebrium(pickUrl: (tryNumber: number) => string | undefined, body: string, { timeoutMs = 2_000 } = {}): Promise<SendOutcome> {
  const signed = cerebriumRequest({ secret: TEST_SECRET, body });
  let reason = 'no relay';
  for (let tryNumber = 1; tryNumber <= 4; tryNumber++) {
    if (tryNumber > 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
    const url = pickUrl(tryNumber);
    if (!url) continue;
    let answer: { status: number; text: string };
    try {
      const response = await request(`${url}/webhooks/cerebrium`, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      answer = { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      // Refused connection, reset or timeout: tried again.
      reason = String((error as { code?: unknown }).code ?? error);
      continue;
    }
    if (answer.status >= 200 && answer.status < 300) {
      let json: { id: string; duplicate: boolean };
      try {
        json = JSON.parse(answer.text) as { id: string; duplicate: boolean };
      } catch {
        throw new Error(`${url} answered ${answer.status} with a body that is not JSON: ${JSON.stringify(answer.text)}`);
      }
      return { kind: 'acknowledged', id: json.id, duplicate: json.duplicate, tries: tryNumber };
    }
    reason = `HTTP ${answer.status}: ${answer.text}`;
    if (answer.status !== 404) return { kind: 'gave-up', reason, tries: tryNumber };
  }
  return { kind: 'gave-up', reason, tries: 4 };
}

/**
 * Waits until the shared database records `delivered` deliveries done and none pending or in
 * flight (`hookrelay stats` through `configPath`): from then on no relay has anything to send.
 */
export async function waitForSettled(configPath: string, delivered: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const result = await runCli(['stats', '--json', '--config', configPath]);
      const stats = JSON.parse(result.stdout) as { deliveries: { pending: number; inFlight: number; delivered: number } };
      return stats.deliveries.delivered === delivered && stats.deliveries.pending === 0 && stats.deliveries.inFlight === 0;
    },
    { timeoutMs, intervalMs: 300, what: `${delivered} deliveries recorded, none pending or in flight` },
  );
}

/** webhook-id -> how many times the sink received it. */
/**
 * The ids in `ids` that the sink has not received. The sink's deliveries are counted once per
 * call: this runs in the test process, which also serves the sink, so a poll that re-counted
 * them per id (thousands x thousands) would starve the sink and slow the very drain it waits for.
 */
export function missingAt(sink: Sink, ids: Iterable<string>): string[] {
  const counts = countsById(sink);
  return [...ids].filter((id) => !counts.has(id));
}

export function countsById(sink: Sink): Map<string, number> {
  const counts = new Map<string, number>();
  for (const delivery of sink.received) {
    const id = String(delivery.headers['webhook-id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
