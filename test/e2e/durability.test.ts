import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const CALLBACKS = 300;

interface Acknowledged {
  runId: string;
  id: string;
  status: number;
}

/**
 * Fires `count` signed callbacks at once and SIGKILLs the relay from inside the response
 * handler of the `killAfter`-th 2xx (synchronously, before any other response is read).
 * Returns every 2xx that reached the client, including ones read after the kill.
 */
async function fireAndKill(relay: RelayProcess, count: number, killAfter: number): Promise<{ acknowledged: Acknowledged[]; failed: number }> {
  const agent = new Agent({ connections: 128, pipelining: 0 });
  const acknowledged: Acknowledged[] = [];
  let failed = 0;
  const url = `${relay.url}/webhooks/cerebrium`;
  try {
    await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const runId = `run-durable-${index}`;
        const signed = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: runId, result: { index } }) });
        try {
          const response = await request(url, { method: 'POST', headers: signed.headers, body: signed.body, dispatcher: agent });
          const text = await response.body.text();
          if (response.statusCode >= 200 && response.statusCode < 300) {
            acknowledged.push({ runId, id: (JSON.parse(text) as { id: string }).id, status: response.statusCode });
            if (acknowledged.length === killAfter) relay.child.kill('SIGKILL');
          } else {
            failed++;
          }
        } catch {
          failed++; // connection refused or reset by the kill: not acknowledged, so no promise was made
        }
      }),
    );
  } finally {
    await agent.destroy();
  }
  return { acknowledged, failed };
}

/** Opens the database the killed relay left behind (read-write, so SQLite recovers the WAL) and checks every acknowledged event. */
function checkAcknowledgedStored(dbPath: string, acknowledged: Acknowledged[], destinations: string[]): void {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const eventById = db.prepare('SELECT id, source, dedupe_key FROM events WHERE id = ?');
    const deliveriesOf = db.prepare('SELECT destination, status FROM deliveries WHERE event_id = ? ORDER BY destination');
    const missing: string[] = [];
    for (const ack of acknowledged) {
      const event = eventById.get(ack.id) as { id: string; source: string; dedupe_key: string } | undefined;
      if (!event) {
        missing.push(ack.runId);
        continue;
      }
      expect(event).toEqual({ id: ack.id, source: 'cerebrium', dedupe_key: ack.runId });
      const deliveries = deliveriesOf.all(ack.id) as { destination: string; status: string }[];
      expect(deliveries.map((delivery) => delivery.destination)).toEqual(destinations);
      for (const delivery of deliveries) expect(['pending', 'in_flight', 'delivered']).toContain(delivery.status);
    }
    expect(missing).toEqual([]);
  } finally {
    db.close();
  }
}

describe('durability: every acknowledged callback survives SIGKILL', () => {
  async function setup(cleanup: Cleanup): Promise<{ dbPath: string; configPath: string; sinks: Sink[]; relay: RelayProcess }> {
    const dir = tempDir();
    cleanup.add(dir.cleanup);
    const sinks = [await startSink(), await startSink()];
    for (const sink of sinks) cleanup.add(() => sink.close());
    const dbPath = join(dir.path, 'hookrelay.db');
    const configPath = writeConfig(
      dir.path,
      relayConfig(dir.path, {
        destinations: [
          { name: 'app', url: sinks[0]!.url },
          { name: 'audit', url: sinks[1]!.url },
        ],
      }),
    );
    const relay = await startRelay(configPath);
    cleanup.add(() => relay.kill());
    return { dbPath, configPath, sinks, relay };
  }

  it(`killed mid-stream while ${CALLBACKS} concurrent callbacks are in flight: every 2xx is on disk, and is delivered after a restart`, async ({ startRelay, cleanup }) => {
    const { dbPath, configPath, sinks, relay } = await setup(cleanup);
    const { acknowledged, failed } = await fireAndKill(relay, CALLBACKS, CALLBACKS / 3);
    expect(await relay.exited).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(CALLBACKS / 3);
    expect(acknowledged.length + failed).toBe(CALLBACKS);
    expect(acknowledged.every((ack) => ack.status === 202)).toBe(true);
    checkAcknowledgedStored(dbPath, acknowledged, ['app', 'audit']);

    // A restart takes over the dead process's lock and delivers everything that was acknowledged.
    const restarted = await startRelay(configPath);
    for (const sink of sinks) {
      await waitFor(
        () => {
          const received = new Set(sink.received.map((delivery) => String(delivery.headers['webhook-id'])));
          return acknowledged.every((ack) => received.has(ack.id));
        },
        { timeoutMs: 45_000, intervalMs: 100, what: 'every acknowledged event at both sinks after the restart' },
      );
    }
    expect(await restarted.stop()).toBe(0);
  });

  it(`killed right after the last of ${CALLBACKS} 2xx responses: all of them are on disk`, async ({ cleanup }) => {
    const { dbPath, relay } = await setup(cleanup);
    const { acknowledged, failed } = await fireAndKill(relay, CALLBACKS, CALLBACKS);
    expect(await relay.exited).toBe('SIGKILL');
    expect(failed).toBe(0);
    expect(acknowledged).toHaveLength(CALLBACKS);
    expect(new Set(acknowledged.map((ack) => ack.id)).size).toBe(CALLBACKS);
    checkAcknowledgedStored(dbPath, acknowledged, ['app', 'audit']);
  });
});
