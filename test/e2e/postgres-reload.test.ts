import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { TEST_SECRET, type RelayProcess } from '../support/relay.mjs';
import { type Sink } from '../support/sink.js';
import { sleep, waitFor } from '../support/wait.js';
import { CEREBRIUM_FAITHFUL, startCerebriumSender, type ResultOutcome } from '../support/cerebrium-sender.js';
import { reportFigures } from '../support/figures.js';

/** SIGHUP on PostgreSQL: the new relay process serves before the old one drains (both may run at once there). */
const SOURCE_PATH = '/webhooks/cerebrium';

interface Logged {
  msg?: string;
  handoverMs?: number;
}

const reloadedLines = (relay: RelayProcess) => relay.lines.map((line) => JSON.parse(line) as Logged).filter((line) => line.msg === 'reloaded');

async function reload(relay: RelayProcess): Promise<Logged> {
  const before = reloadedLines(relay).length;
  relay.child.kill('SIGHUP');
  return waitFor(() => reloadedLines(relay)[before], { timeoutMs: 20_000, what: 'the reloaded line' });
}

function perRunDeliveries(sink: Sink): Map<string, number> {
  const counts = new Map<string, number>();
  for (const delivery of sink.received) {
    const runId = (JSON.parse(delivery.body.toString('utf8')) as { run_id: string }).run_id;
    counts.set(runId, (counts.get(runId) ?? 0) + 1);
  }
  return counts;
}

function tally(outcomes: readonly ResultOutcome[]): Record<string, number> {
  const seen: Record<string, number> = {};
  for (const outcome of outcomes) for (const attempt of outcome.attempts) seen[attempt] = (seen[attempt] ?? 0) + 1;
  return seen;
}

describe('reload (SIGHUP) on PostgreSQL', () => {
  it('on PostgreSQL the new relay process serves before the old one drains: 3 reloads under the sender, 0 refused or reset, 0 lost, each run delivered once', { timeout: 90_000 }, async ({ cleanup, startSink, startFleet }) => {
    const sink = await startSink();
    const fleet = await startFleet({ count: 1, sink });
    const relay = fleet.relays[0]!;
    const sender = startCerebriumSender(`${relay.url}${SOURCE_PATH}`, TEST_SECRET, { concurrency: 4, pauseMs: 100, runPrefix: `reload-pg-${Date.now()}`, policy: CEREBRIUM_FAITHFUL });
    cleanup.add(() => sender.stop());
    const reloads: Logged[] = [];
    for (let index = 0; index < 3; index++) {
      await sleep(1_000);
      reloads.push(await reload(relay));
    }
    await sleep(500);
    await sender.stop();
    const seen = tally(sender.outcomes);
    const acked = new Set(sender.outcomes.filter((outcome) => outcome.acknowledged).map((outcome) => outcome.runId));
    await waitFor(() => [...acked].every((runId) => perRunDeliveries(sink).has(runId)), { timeoutMs: 30_000, what: 'every acknowledged run to be delivered' });
    reportFigures('reload-postgres', { reloads: reloads.length, runs: sender.outcomes.length, attemptOutcomes: seen, handoverMs: reloads.map((line) => line.handoverMs) });
    expect(Object.keys(seen)).toEqual(['202']);
    expect(acked.size).toBe(sender.outcomes.length);
    expect([...perRunDeliveries(sink)].filter(([, count]) => count > 1)).toEqual([]);
    expect(await relay.stop()).toBe(0);
  });

});
