import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { countsById, missingAt, sendLikeCerebrium, waitForSettled, type SendOutcome } from '../support/postgres-fleet.js';

describe('rolling restart of three relays on one PostgreSQL database', () => {
  // Six serve start-ups (each now boots a supervisor and a relay process) on a shared 2-core machine.
  it('a sender that retries like Cerebrium keeps sending: every result is acknowledged and delivered exactly once', { timeout: 90_000 }, async ({ startSink, runCli, startFleet }) => {
    const sink = await startSink(() => new Promise((resolve) => setTimeout(() => resolve(200), 50)));
    const fleet = await startFleet({ count: 3, sink });

    // The load balancer: round-robin over the relays that are running at the time of each try.
    let turn = 0;
    const pick = () => {
      const urls = fleet.urls();
      return urls.length === 0 ? undefined : urls[turn++ % urls.length];
    };
    const outcomes: SendOutcome[] = [];
    let sending = true;
    let index = 0;
    const sender = async () => {
      while (sending) {
        const body = JSON.stringify({ run_id: `run-${index++}`, result: { ok: true } });
        outcomes.push(await sendLikeCerebrium(pick, body));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const senders = Array.from({ length: 3 }, () => sender());

    await waitFor(() => outcomes.length >= 15, { timeoutMs: 20_000, what: 'traffic before the restart' });
    for (let relay = 0; relay < 3; relay++) {
      // Redeploy one relay at a time: SIGTERM (graceful), then the new process with the same config.
      expect(await fleet.relays[relay]!.stop()).toBe(0);
      await fleet.restart(relay);
      const before = outcomes.length;
      await waitFor(() => outcomes.length >= before + 10, { timeoutMs: 20_000, what: 'traffic through the new relay' });
    }
    sending = false;
    await Promise.all(senders);

    const gaveUp = outcomes.filter((outcome) => outcome.kind === 'gave-up');
    expect(gaveUp).toEqual([]);
    const acknowledged = outcomes.flatMap((outcome) => (outcome.kind === 'acknowledged' ? [outcome] : []));
    // One acknowledgement per result (a retry after a timeout may be answered "duplicate" with the same id).
    expect(acknowledged.length).toBe(index);
    expect(new Set(acknowledged.map((outcome) => outcome.id)).size).toBe(index);
    expect(acknowledged.length).toBeGreaterThanOrEqual(45);

    const ids = new Set(acknowledged.map((outcome) => outcome.id));
    await waitFor(() => missingAt(sink, ids).length === 0, { timeoutMs: 30_000, what: 'every acknowledged result delivered' });
    await waitForSettled(fleet.configPaths[0]!, ids.size);
    const counts = countsById(sink);
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    expect([...counts.values()].filter((count) => count !== 1)).toEqual([]);

    const stats = await runCli(['stats', '--json', '--config', fleet.configPaths[0]!]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ events: ids.size, deliveries: { pending: 0, inFlight: 0, delivered: ids.size, dead: 0 } });
    for (const relay of fleet.relays) expect(await relay!.stop()).toBe(0);
  });
});
