import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { countsById, sendLikeCerebrium, waitForSettled } from '../support/postgres-fleet.js';

describe('three relays on one PostgreSQL database', () => {
  it('callbacks spread across them are stored once and delivered exactly once; duplicates across relays answer the first id; the CLI reads the shared database', async ({ startSink, runCli, startFleet }) => {
    const sink = await startSink();
    const fleet = await startFleet({ count: 3, sink });

    const total = 90;
    const acknowledged = new Map<string, string>();
    let next = 0;
    // Four senders at once, each callback to the next relay in turn.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let index = next++; index < total; index = next++) {
          const body = JSON.stringify({ run_id: `run-${index}`, result: { index } });
          const urls = fleet.urls();
          const outcome = await sendLikeCerebrium(() => urls[index % urls.length], body);
          expect(outcome).toMatchObject({ kind: 'acknowledged', duplicate: false });
          if (outcome.kind === 'acknowledged') acknowledged.set(`run-${index}`, outcome.id);
          if (index % 3 === 0) {
            // The same result again through another relay: a duplicate with the first id.
            const again = await sendLikeCerebrium(() => urls[(index + 1) % urls.length], body);
            expect(again).toMatchObject({ kind: 'acknowledged', duplicate: true, id: outcome.kind === 'acknowledged' ? outcome.id : '' });
          }
        }
      }),
    );
    expect(acknowledged.size).toBe(total);

    await waitFor(() => sink.received.length >= total, { timeoutMs: 30_000, what: 'every delivery' });
    // Every delivery recorded done: nothing is left for any relay to send again.
    await waitForSettled(fleet.configPaths[0]!, total);
    const counts = countsById(sink);
    expect(sink.received.length).toBe(total);
    expect([...counts.keys()].sort()).toEqual([...acknowledged.values()].sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);

    const stats = await runCli(['stats', '--json', '--config', fleet.configPaths[2]!]);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual({
      events: total,
      deliveries: { pending: 0, inFlight: 0, delivered: total, dead: 0 },
      destinations: { app: { pending: 0, inFlight: 0, delivered: total, dead: 0 } },
    });
    const check = await runCli(['check-config', '--config', fleet.configPaths[0]!]);
    expect(check.code).toBe(0);

    for (const relay of fleet.relays) expect(await relay!.stop()).toBe(0);
  });
});
