import { Agent, get as httpGet } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import DatabaseConstructor from 'better-sqlite3';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest, standardWebhooksRequest } from '../support/signed-request.js';
import { type Sink } from '../support/sink.js';
import { sleep, waitFor } from '../support/wait.js';
import { CEREBRIUM_FAITHFUL, sendLikeCerebrium, startCerebriumSender, type ResultOutcome } from '../support/cerebrium-sender.js';
import { inspectDatabase } from '../support/database.js';
import { reportFigures } from '../support/figures.js';
import { callOnce } from '../support/http-call.js';

/**
 * The front door (CONTRACT "Reload and failure answers"): SIGHUP reloads config and code while
 * a Cerebrium-faithful sender keeps sending, and not one connection is refused or reset, not
 * one answer is a 5xx, nothing is lost or delivered twice, and the process to signal stays the
 * same. A storage outage is answered the way each source's sender retries.
 */
const RELOAD_EVERY_MS = 2_000;
const RELOADS = 7;
const SOURCE_PATH = '/webhooks/cerebrium';

interface Logged {
  msg?: string;
  pid?: number;
  relayPid?: number;
  handoverMs?: number;
  level?: number;
  error?: string;
}

/** True while `pid` runs (a zombie has ended: it only waits to be reaped). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const logged = (relay: RelayProcess): Logged[] => relay.lines.map((line) => JSON.parse(line) as Logged);
const withMessage = (relay: RelayProcess, msg: string) => logged(relay).filter((line) => line.msg === msg);
const runIdOf = (body: Buffer) => (JSON.parse(body.toString('utf8')) as { run_id: string }).run_id;

/** Sends SIGHUP and waits for the next `reloaded` line (bounded). */
async function reload(relay: RelayProcess): Promise<Logged> {
  const before = withMessage(relay, 'reloaded').length;
  relay.child.kill('SIGHUP');
  return waitFor(() => withMessage(relay, 'reloaded')[before], { timeoutMs: 20_000, what: 'the reloaded line' });
}

function perRunDeliveries(sink: Sink): Map<string, number> {
  const counts = new Map<string, number>();
  for (const delivery of sink.received) counts.set(runIdOf(delivery.body), (counts.get(runIdOf(delivery.body)) ?? 0) + 1);
  return counts;
}

function tally(outcomes: readonly ResultOutcome[]): Record<string, number> {
  const seen: Record<string, number> = {};
  for (const outcome of outcomes) for (const attempt of outcome.attempts) seen[attempt] = (seen[attempt] ?? 0) + 1;
  return seen;
}

describe('reload (SIGHUP): the front door never drops a run', () => {
  it(`SIGHUP every ${RELOAD_EVERY_MS / 1000} s under a Cerebrium-faithful sender: 0 refused or reset, 0 5xx, 0 lost, each acked run delivered once, same pid`, { timeout: 120_000 }, async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir('hookrelay-reload-');
    const sink = await startSink();
    const dbPath = join(dir, 'hookrelay.db');
    const configPath = writeConfig(dir, relayConfig(dir, { destinations: [{ name: 'app', url: sink.url }] }));
    const relay = await startRelay(configPath, { timeoutMs: 30_000 });
    const [listening] = withMessage(relay, 'listening');
    expect(listening?.pid).toBe(relay.child.pid);

    const sender = startCerebriumSender(`${relay.url}${SOURCE_PATH}`, TEST_SECRET, { concurrency: 4, pauseMs: 100, runPrefix: `reload-${Date.now()}`, policy: CEREBRIUM_FAITHFUL });
    cleanup.add(() => sender.stop());
    const reloads: Logged[] = [];
    for (let index = 0; index < RELOADS; index++) {
      const at = Date.now();
      reloads.push(await reload(relay));
      await sleep(Math.max(0, RELOAD_EVERY_MS - (Date.now() - at)));
    }
    await sender.stop();

    const outcomes = sender.outcomes;
    const seen = tally(outcomes);
    const refusedOrReset = Object.entries(seen).filter(([attempt]) => attempt === 'refused' || attempt.startsWith('reset:'));
    const serverErrors = Object.entries(seen).filter(([attempt]) => /^5\d\d$/.test(attempt));
    const lost = outcomes.filter((outcome) => !outcome.acknowledged);
    const acked = new Set(outcomes.filter((outcome) => outcome.acknowledged).map((outcome) => outcome.runId));
    await waitFor(() => [...acked].every((runId) => perRunDeliveries(sink).has(runId)), { timeoutMs: 30_000, what: 'every acknowledged run to be delivered' });
    const deliveries = perRunDeliveries(sink);
    const repeated = [...deliveries].filter(([, count]) => count > 1);
    const handovers = reloads.map((line) => line.handoverMs ?? -1).sort((a, b) => a - b);
    expect(await relay.stop(30_000)).toBe(0);
    const report = inspectDatabase(dbPath, 1);

    reportFigures('reload', {
      reloads: reloads.length,
      runs: outcomes.length,
      acknowledged: acked.size,
      lost: lost.length,
      attemptOutcomes: seen,
      refusedOrReset: refusedOrReset.reduce((sum, [, count]) => sum + count, 0),
      serverErrors: serverErrors.reduce((sum, [, count]) => sum + count, 0),
      delivered: sink.received.length,
      repeated: repeated.length,
      handoverMs: { median: handovers[Math.floor(handovers.length / 2)], max: handovers.at(-1) },
    });
    expect(outcomes.length).toBeGreaterThanOrEqual(100);
    expect(refusedOrReset).toEqual([]);
    expect(serverErrors).toEqual([]);
    expect(lost.map((outcome) => `${outcome.runId}: ${outcome.attempts.join(' -> ')}`)).toEqual([]);
    expect(repeated).toEqual([]);
    expect(report.integrity).toBe('ok');
    expect(report.byStatus).toMatchObject({ pending: 0, in_flight: 0, dead: 0 });
    // The process to signal never changed; the relay process (and so its code) did at every reload.
    expect(reloads.every((line) => line.pid === relay.child.pid)).toBe(true);
    expect(new Set([listening?.relayPid, ...reloads.map((line) => line.relayPid)]).size).toBe(RELOADS + 1);
  });

  it('a reload adds a destination that new callbacks reach; a broken config is one error line naming the key, and the old config goes on', { timeout: 90_000 }, async ({ tempDir, startRelay, startSink }) => {
    const dir = tempDir('hookrelay-reload-config-');
    const first = await startSink();
    const second = await startSink();
    const withFirst = relayConfig(dir, { destinations: [{ name: 'first', url: first.url }] });
    const configPath = writeConfig(dir, withFirst);
    const relay = await startRelay(configPath);
    const url = `${relay.url}${SOURCE_PATH}`;
    const send = async (runId: string) => (await post(url, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: runId }) }))).status;

    expect(await send('before-reload')).toBe(202);
    await waitFor(() => first.received.length === 1, { what: 'the first delivery' });

    const withBoth = relayConfig(dir, { destinations: [{ name: 'first', url: first.url }, { name: 'second', url: second.url }] });
    writeConfig(dir, withBoth);
    const reloaded = await reload(relay);
    expect(reloaded.pid).toBe(relay.child.pid);
    expect(await send('after-reload')).toBe(202);
    await waitFor(() => second.received.some((delivery) => runIdOf(delivery.body) === 'after-reload'), { what: 'the added destination to receive the new callback' });
    await waitFor(() => first.received.some((delivery) => runIdOf(delivery.body) === 'after-reload'), { what: 'the first destination to receive it too' });

    // A broken config: the error names the key path; the relay goes on with the config it has.
    writeConfig(dir, { ...withBoth, destinations: [{ name: 'first', url: first.url, retry: { maxAttempts: 0 } }] });
    const errorsBefore = logged(relay).filter((line) => (line.level ?? 0) >= 50).length;
    relay.child.kill('SIGHUP');
    const failure = await waitFor(() => logged(relay).find((line) => line.msg?.startsWith('reload failed')), { what: 'the reload error line' });
    expect(failure.msg).toContain('destinations[0].retry.maxAttempts');
    expect(failure.level).toBe(50);
    expect(await send('after-broken-reload')).toBe(202);
    await waitFor(() => second.received.some((delivery) => runIdOf(delivery.body) === 'after-broken-reload'), { what: 'the old config to keep serving' });
    expect(logged(relay).filter((line) => (line.level ?? 0) >= 50)).toHaveLength(errorsBefore + 1);
    expect(withMessage(relay, 'reloaded')).toHaveLength(1);
    expect(await relay.stop()).toBe(0);
  });

  it('a crashed relay process is started again on the same socket and pid; SIGKILL of serve leaves no relay process behind', { timeout: 90_000 }, async ({ tempDir, startRelay, startSink }) => {
    const dir = tempDir('hookrelay-relay-crash-');
    const sink = await startSink();
    const relay = await startRelay(writeConfig(dir, relayConfig(dir, { destinations: [{ name: 'app', url: sink.url }] })));
    const url = `${relay.url}${SOURCE_PATH}`;
    const send = async (runId: string) => (await post(url, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: runId }) }))).status;
    expect(await send('before-crash')).toBe(202);

    process.kill(relay.relayPid, 'SIGKILL');
    const restarted = await waitFor(() => withMessage(relay, 'relay process restarted')[0], { timeoutMs: 30_000, what: 'the restart line' });
    expect(restarted.pid).toBe(relay.child.pid);
    expect(restarted.relayPid).not.toBe(relay.relayPid);
    expect(logged(relay).some((line) => line.msg?.startsWith('the relay process exited unexpectedly'))).toBe(true);
    expect(await send('after-crash')).toBe(202);
    await waitFor(() => sink.received.length === 2, { what: 'both deliveries' });

    await relay.kill();
    // The orphaned relay process ends by itself (gone, or a zombie waiting for init to reap it).
    await waitFor(() => !isRunning(restarted.relayPid!), { timeoutMs: 10_000, what: 'the relay process to end with serve' });
  });

  it('keep-alive clients on both listeners across 3 reloads: every request answered, none reset', { timeout: 90_000 }, async ({ cleanup, tempDir, startRelay }) => {
    const dir = tempDir('hookrelay-reload-keepalive-');
    const relay = await startRelay(writeConfig(dir, relayConfig(dir, { admin: { host: '127.0.0.1', port: 0 } })));
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    cleanup.add(() => agent.destroy());
    const results = new Map<string, number>();
    let running = true;
    const loop = async (url: string) => {
      while (running) {
        const outcome = await new Promise<string>((resolve) => {
          const req = httpGet(url, { agent, timeout: 10_000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(String(res.statusCode)));
            res.on('error', (error: NodeJS.ErrnoException) => resolve(`error:${error.code}`));
          });
          req.on('error', (error: NodeJS.ErrnoException) => resolve(`error:${error.code}`));
        });
        results.set(outcome, (results.get(outcome) ?? 0) + 1);
        await sleep(5);
      }
    };
    const loops = [loop(`${relay.url}/healthz`), loop(`http://127.0.0.1:${relay.adminPort}/metrics`)];
    for (let index = 0; index < 3; index++) {
      await sleep(500);
      await reload(relay);
    }
    await sleep(500);
    running = false;
    await Promise.all(loops);
    reportFigures('reload-keep-alive', { reloads: 3, answers: Object.fromEntries(results) });
    expect([...results.keys()]).toEqual(['200']);
    expect(results.get('200')).toBeGreaterThan(20);
    expect(await relay.stop()).toBe(0);
  });

  it('database locked 2.5 s (busyTimeoutMs 500): the cerebrium source disconnects and its sender\'s retries land; standard-webhooks answers 503', { timeout: 90_000 }, async ({ cleanup, tempDir, startRelay }) => {
    const dir = tempDir('hookrelay-unavailable-');
    const dbPath = join(dir, 'hookrelay.db');
    const whsec = `whsec_${Buffer.from('reload-test-standard-webhooks-key').toString('base64')}`;
    const config = relayConfig(dir, {
      storage: { sqlite: { path: dbPath, busyTimeoutMs: 500 } },
      admin: { host: '127.0.0.1', port: 0 },
      sources: [
        { name: 'cerebrium', path: SOURCE_PATH, verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] } },
        { name: 'standard', path: '/webhooks/standard', verify: { scheme: 'standard-webhooks', secrets: [whsec] } },
      ],
    });
    const relay = await startRelay(writeConfig(dir, config));
    const url = `${relay.url}${SOURCE_PATH}`;
    expect((await post(url, cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"before-lock"}' }))).status).toBe(202);

    const locker = new DatabaseConstructor(dbPath);
    cleanup.add(() => locker.open && locker.close());
    locker.exec('BEGIN EXCLUSIVE');
    const unlocked = sleep(2_500).then(() => locker.exec('ROLLBACK'));
    const runs = Array.from({ length: 6 }, (_, index) => sendLikeCerebrium(url, TEST_SECRET, `locked-${index}`, CEREBRIUM_FAITHFUL));
    const standard = standardWebhooksRequest({ secret: whsec, body: '{"type":"locked"}' });
    const standardAnswer = await callOnce(`${relay.url}/webhooks/standard`, standard.headers, standard.body, 10_000);
    const outcomes = await Promise.all(runs);
    await unlocked;

    reportFigures('storage-failure-answers', { busyTimeoutMs: 500, lockedMs: 2_500, cerebrium: outcomes.map((outcome) => outcome.attempts.join(' -> ')), standard: standardAnswer });
    expect(standardAnswer).toMatchObject({ kind: 'response', status: 503 });
    // Each cerebrium run met the lock on its first attempt, as a closed connection (never a 5xx), and a retry landed.
    for (const outcome of outcomes) {
      expect(outcome.acknowledged).toBe(true);
      expect(outcome.attempts[0]).toMatch(/^reset:/);
      expect(outcome.attempts.filter((attempt) => /^5\d\d$/.test(attempt))).toEqual([]);
    }
    const metrics = await (await request(`http://127.0.0.1:${relay.adminPort}/metrics`)).body.text();
    const unavailable = (source: string) => Number(new RegExp(`hookrelay_events_received_total\\{source="${source}",outcome="unavailable"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(unavailable('cerebrium')).toBeGreaterThanOrEqual(outcomes.length);
    expect(unavailable('standard')).toBe(1);
    expect(withMessage(relay, 'storage unavailable: closing the connection without an answer').length).toBeGreaterThanOrEqual(1);
    expect(withMessage(relay, 'storage unavailable: answering 503').length).toBeGreaterThanOrEqual(1);
    expect(await relay.stop()).toBe(0);
    const report = inspectDatabase(dbPath, 0);
    expect(report.integrity).toBe('ok');
  });
});
