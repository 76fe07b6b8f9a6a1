import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { jsonLines } from '../support/cli.mjs';
import { waitFor } from '../support/wait.js';
import { sendLikeCerebrium } from '../support/postgres-fleet.js';

async function getJson(url: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<{ status: number; json: unknown }> {
  const response = await request(url, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, json: text ? (JSON.parse(text) as unknown) : null };
}

describe('operator tools against PostgreSQL with two relays running', () => {
  it('dlq list, replay, redeliver and stats from the CLI, and the admin API of either relay, see the shared database', async ({ startSink, runCli, startFleet }) => {
    let healthy = false;
    const sink = await startSink(() => (healthy ? 200 : 500));
    const fleet = await startFleet({
      count: 2,
      sink,
      destination: { retry: { maxAttempts: 1 } },
      extra: { admin: { host: '127.0.0.1', port: 0 } },
    });
    const config = fleet.configPaths[0]!;

    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const outcome = await sendLikeCerebrium(() => fleet.relays[index % 2]!.url, JSON.stringify({ run_id: `ops-${index}` }));
      if (outcome.kind === 'acknowledged') ids.push(outcome.id);
    }
    expect(ids).toHaveLength(3);

    // One failed attempt each (maxAttempts 1): three dead letters.
    const deadLetters = await waitFor(
      async () => {
        const result = await runCli(['dlq', 'list', '--json', '--config', config]);
        const lines = result.code === 0 ? jsonLines<{ id: string; eventId: string; dedupeKey: string; attempts: number; lastStatus: number | null }>(result.stdout) : [];
        return lines.length === 3 ? lines : null;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'three dead letters' },
    );
    expect(deadLetters.map((letter) => letter.dedupeKey).sort()).toEqual(['ops-0', 'ops-1', 'ops-2']);
    expect(deadLetters.every((letter) => letter.attempts === 1 && letter.lastStatus === 500)).toBe(true);

    const dryRun = await runCli(['replay', '--all', '--dry-run', '--json', '--config', config]);
    expect(dryRun.code).toBe(0);
    expect(JSON.parse(dryRun.stdout)).toEqual({ matched: 3, replayed: 0, dryRun: true });

    healthy = true;
    const one = await runCli(['replay', '--id', deadLetters[0]!.id, '--json', '--config', config]);
    expect(JSON.parse(one.stdout)).toEqual({ matched: 1, replayed: 1, dryRun: false });
    const rest = await runCli(['replay', '--all', '--json', '--config', fleet.configPaths[1]!]);
    expect(JSON.parse(rest.stdout)).toEqual({ matched: 2, replayed: 2, dryRun: false });
    const delivered = () => sink.received.filter((_, index) => index >= 3).map((delivery) => String(delivery.headers['webhook-id']));
    await waitFor(() => delivered().length >= 3, { timeoutMs: 15_000, what: 'the replayed deliveries' });
    expect(delivered().sort()).toEqual([...ids].sort());
    expect(sink.received.slice(3).every((delivery) => delivery.headers['hookrelay-attempt'] === '2')).toBe(true);

    const again = await runCli(['redeliver', '--event', ids[1]!, '--json', '--config', config]);
    expect(again.code).toBe(0);
    await waitFor(() => delivered().length === 4, { timeoutMs: 15_000, what: 'the redelivery' });
    expect(delivered()[3]).toBe(ids[1]);
    expect((await runCli(['redeliver', '--event', 'evt_unknown', '--json', '--config', config])).code).toBe(1);

    await waitFor(
      async () => {
        const stats = JSON.parse((await runCli(['stats', '--json', '--config', config])).stdout) as { deliveries: { delivered: number } };
        return stats.deliveries.delivered === 3;
      },
      { timeoutMs: 15_000, what: 'stats to show three delivered' },
    );

    for (const relay of fleet.relays) {
      const admin = `http://127.0.0.1:${relay!.adminPort}`;
      const event = await getJson(`${admin}/admin/api/events/${ids[0]}`);
      expect(event.status).toBe(200);
      expect(JSON.stringify(event.json)).toContain('ops-0');
      const list = await getJson(`${admin}/admin/api/deliveries?status=delivered`);
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.json)).toContain(ids[2]!);
      const replay = await getJson(`${admin}/admin/api/replay`, { method: 'POST', body: { all: true, dryRun: true } });
      expect(replay).toEqual({ status: 200, json: { matched: 0, replayed: 0, dryRun: true } });
      const metrics = await request(`${admin}/metrics`);
      expect(await metrics.body.text()).toMatch(/hookrelay_deliveries\{[^}]*status="delivered"[^}]*\} 3/);
    }
    for (const relay of fleet.relays) expect(await relay!.stop()).toBe(0);
  });
});
