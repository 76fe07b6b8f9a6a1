import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { relayConfig, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { type Sink } from '../support/sink.js';
import { sleep, waitFor } from '../support/wait.js';
import { inspectDatabase } from '../support/database.js';
import { LONG, randomBetween, reportFigures } from '../support/figures.js';
import { startIngestLoad } from '../support/ingest-load.js';

/**
 * The real relay under continuous concurrent ingest, SIGKILLed at random moments and
 * restarted on the same database. Every callback answered 2xx must reach every matching
 * destination at least once; nothing may go dead; the database must stay intact.
 */
const CYCLES = LONG ? Number(process.env.HOOKRELAY_CRASH_CYCLES ?? 60) : 5;
const WORKERS = 8;

describe('crash loop: SIGKILL at random moments loses no acknowledged callback', () => {
  it(`${CYCLES} kill/restart cycles under ${WORKERS} concurrent senders`, { timeout: LONG ? 1_800_000 : 120_000 }, async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir('hookrelay-crash-');
    const sinks: Record<string, Sink> = { app: await startSink(), audit: await startSink(), other: await startSink() };
    for (const sink of Object.values(sinks)) cleanup.add(() => sink.close());
    const retry = { maxAttempts: 1000, initialDelayMs: 50, multiplier: 2, maxDelayMs: 1000 };
    const config = relayConfig(dir, {
      sources: [
        { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] } },
        { name: 'other', path: '/webhooks/other', verify: { scheme: 'none' } },
      ],
      destinations: [
        { name: 'app', url: sinks.app!.url, retry, timeoutMs: 5_000 },
        { name: 'audit', url: sinks.audit!.url, sources: ['cerebrium'], retry, timeoutMs: 5_000 },
        { name: 'other-only', url: sinks.other!.url, sources: ['other'], retry },
      ],
    });
    const configPath = writeConfig(dir, config);
    const dbPath = join(dir, 'hookrelay.db');

    let relay: RelayProcess | null = null;
    cleanup.add(() => relay?.kill());
    let target: string | null = null;
    const load = startIngestLoad({ target: () => target, workers: WORKERS, secret: TEST_SECRET, runPrefix: `crash-${Date.now()}` });
    cleanup.add(() => load.stop());

    const uptimes: number[] = [];
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      relay = await startRelay(configPath, { timeoutMs: 30_000 });
      target = `${relay.url}/webhooks/cerebrium`;
      // Some kills land right after start-up (recovery of leases, first claims), most under full
      // load: those cycles first wait for a new acknowledgement, so every one kills a relay at work
      // however slow the machine is.
      const early = cycle % 4 === 0;
      if (!early) {
        const ackedBefore = load.acked.size;
        await waitFor(() => load.acked.size > ackedBefore, { timeoutMs: 30_000, what: `an acknowledgement in cycle ${cycle}` });
      }
      const uptime = early ? randomBetween(0, 150) : randomBetween(200, 1_500);
      uptimes.push(uptime);
      await sleep(uptime);
      relay.child.kill('SIGKILL');
      expect(await relay.exited).toBe('SIGKILL');
      target = null;
    }
    await load.stop();

    relay = await startRelay(configPath, { timeoutMs: 30_000 });
    const acked = load.acked;
    const unique = (sink: Sink) => new Set(sink.received.map((delivery) => String(delivery.headers['webhook-id'])));
    const missing = (sink: Sink) => {
      const seen = unique(sink);
      return [...acked.values()].filter((eventId) => !seen.has(eventId));
    };
    await waitFor(() => missing(sinks.app!).length === 0 && missing(sinks.audit!).length === 0, {
      timeoutMs: LONG ? 300_000 : 60_000,
      intervalMs: 200,
      what: `every acknowledged callback to reach both sinks (missing app=${missing(sinks.app!).length}, audit=${missing(sinks.audit!).length})`,
    }).catch(() => undefined);
    const lostApp = missing(sinks.app!);
    const lostAudit = missing(sinks.audit!);
    // Nothing is pending any more: everything stored (acked or not) has been delivered.
    await waitFor(() => {
      const report = inspectDatabase(dbPath, 2);
      return report.byStatus.pending === 0 && report.byStatus.in_flight === 0;
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'no pending deliveries' }).catch(() => undefined);
    expect(await relay.stop()).toBe(0);

    const report = inspectDatabase(dbPath, 2);
    const receipts = sinks.app!.received.length + sinks.audit!.received.length;
    const deliveredUnique = unique(sinks.app!).size + unique(sinks.audit!).size;
    const duplicates = receipts - deliveredUnique;
    // A delivered body is the exact body received for that event: the run_id inside matches the acked one.
    const runOf = new Map([...acked.entries()].map(([runId, eventId]) => [eventId, runId]));
    const mismatched = [...sinks.app!.received, ...sinks.audit!.received].filter((delivery) => {
      const runId = runOf.get(String(delivery.headers['webhook-id']));
      return runId !== undefined && (JSON.parse(delivery.body.toString()) as { run_id: string }).run_id !== runId;
    }).length;
    const figures = {
      cycles: CYCLES,
      workers: WORKERS,
      sent: load.sent(),
      acked: acked.size,
      storedEvents: report.events,
      deliveriesExpected: acked.size * 2,
      deliveredAcked: acked.size * 2 - lostApp.length - lostAudit.length,
      deliveriesReceived: receipts,
      duplicates,
      duplicatesPerCrash: Number((duplicates / CYCLES).toFixed(2)),
      lost: lostApp.length + lostAudit.length,
      dead: report.byStatus.dead,
      connectionFailures: load.connectionFailures(),
      non2xxAnswers: Object.fromEntries(load.otherStatuses),
      integrity: report.integrity,
      meanUptimeMs: Math.round(uptimes.reduce((a, b) => a + b, 0) / uptimes.length),
    };
    reportFigures('crash-loop', figures);

    expect(acked.size).toBeGreaterThanOrEqual(CYCLES - Math.floor(CYCLES / 4));
    expect(lostApp).toEqual([]);
    expect(lostAudit).toEqual([]);
    expect(mismatched).toBe(0);
    expect(sinks.other!.received).toHaveLength(0);
    expect(report.integrity).toBe('ok');
    expect(report.byStatus).toEqual({ pending: 0, in_flight: 0, delivered: report.events * 2, dead: 0 });
    expect(report.eventsWithWrongFanOut).toBe(0);
    expect(Object.keys(figures.non2xxAnswers)).toEqual([]);
  });
});
