import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { openBrowser } from '../support/browser.js';
import { jsonLines } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { relayConfig, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';


const OLD_SECRET = 'the-secret-the-relay-knows';
const NEW_SECRET = 'the-secret-rotated-on-the-sender-only';
const MAX_BYTES = 20_000;

interface Listed {
  id: string;
  source: string;
  reason: string;
  receivedAt: string;
  size: number;
}

describe('quarantine: what a wrong secret would lose is kept, and released once the secret is known', () => {
  it('round trip: 401 and kept, never delivered; release with the new secret delivers through the running serve; a forged one stays; junk over maxBytes evicts the oldest', async ({ cleanup, tempDir, startRelay, startSink, runCli }) => {
    const dir = tempDir();
    const sink = await startSink(() => 200);
    const configFor = (secrets: string[]) =>
      relayConfig(dir, {
        admin: { host: '127.0.0.1', port: 0 },
        sources: [
          {
            name: 'cerebrium',
            path: '/webhooks/cerebrium',
            verify: { scheme: 'cerebrium', secrets, toleranceMs: 60_000 },
            quarantine: { maxBytes: MAX_BYTES, maxAgeMs: '1h' },
          },
        ],
        destinations: [{ name: 'app', url: sink.url }],
      });
    const configPath = writeConfig(dir, configFor([OLD_SECRET]));
    const relay = await startRelay(configPath);
    const cli = (...args: string[]) => runCli([...args, '--config', configPath]);
    const send = async (secret: string, runId: string, timestamp?: number) =>
      (await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret, body: JSON.stringify({ run_id: runId }), timestamp }))).status;

    // 5 results signed with a secret the relay does not know yet, one with the known secret but
    // a clock 10 minutes behind, one forged: all 401.
    const runIds = ['run-q-1', 'run-q-2', 'run-q-3', 'run-q-4', 'run-q-5'];
    for (const runId of runIds) expect(await send(NEW_SECRET, runId)).toBe(401);
    expect(await send(OLD_SECRET, 'run-q-late', Math.floor(Date.now() / 1000) - 600)).toBe(401);
    expect(await send('forged', 'run-q-forged')).toBe(401);

    const listed = jsonLines<Listed>((await cli('quarantine', 'list', '--json')).stdout);
    expect(listed).toHaveLength(7);
    expect(listed.map((entry) => entry.reason).sort()).toEqual([...Array(6).fill('HOOKRELAY_SIGNATURE_INVALID'), 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW'].sort());
    expect(listed[0]).toEqual({ id: expect.stringMatching(/^qtn_/), source: 'cerebrium', reason: 'HOOKRELAY_SIGNATURE_INVALID', receivedAt: expect.any(String), size: expect.any(Number) });
    const forgedId = listed[0]!.id;

    // Warned with the reason, and the clock skew for the timestamp.
    const rejected = relay.lines.filter((line) => line.includes('"callback rejected"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rejected).toHaveLength(7);
    expect(rejected.every((line) => line.level === 40 && typeof line.reason === 'string')).toBe(true);
    const skew = rejected.find((line) => line.code === 'HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW')!;
    expect(skew.clockSkewMs).toBeGreaterThanOrEqual(600_000);
    expect(skew.clockSkewMs).toBeLessThan(700_000);

    // The gauge counts them; nothing was stored as an event or delivered.
    const metrics = await (await request(`http://127.0.0.1:${relay.adminPort}/metrics`)).body.text();
    expect(metrics).toMatch(/^hookrelay_quarantined\{source="cerebrium"\} 7$/m);
    expect(JSON.parse((await cli('stats', '--json')).stdout).events).toBe(0);
    expect(sink.received).toHaveLength(0);

    // The admin API and the dashboard's overview show the count per source, as a warning.
    const stats = await (await request(`http://127.0.0.1:${relay.adminPort}/admin/api/stats`)).body.json();
    expect((stats as { quarantined: unknown }).quarantined).toEqual({ cerebrium: 7 });
    const errors: string[] = [];
    const browser = await openBrowser(errors);
    cleanup.add(() => browser.close());
    await browser.page.goto(`http://127.0.0.1:${relay.adminPort}/`);
    const warning = browser.page.locator('#quarantine [role="alert"]');
    await expect.poll(() => warning.getAttribute('data-quarantined'), { timeout: 15_000 }).toBe('7');
    expect(await warning.textContent()).toContain('7 rejected callbacks held in quarantine (cerebrium: 7)');
    await browser.close();
    expect(errors).toEqual([]);

    // Releasing before the secret is known releases nothing.
    expect(JSON.parse((await cli('quarantine', 'release', '--all', '--json')).stdout)).toEqual({ matched: 7, released: 1 });
    // (the late one verifies with the known secret: the window is not applied on release)
    await waitFor(() => sink.received.some((r) => r.body.toString().includes('run-q-late')), { timeoutMs: 15_000, what: 'the late one delivered' });

    // The operator adds the new secret; the running serve is not reloaded.
    writeConfig(dir, configFor([OLD_SECRET, NEW_SECRET]));
    const release = await cli('quarantine', 'release', '--all', '--json');
    expect(release.code, release.stderr).toBe(0);
    expect(JSON.parse(release.stdout)).toEqual({ matched: 6, released: 5 });
    await waitFor(() => runIds.every((runId) => sink.received.some((r) => r.body.toString().includes(runId))), {
      timeoutMs: 15_000,
      what: 'the five released results delivered by the running serve',
    });
    expect(sink.received.some((r) => r.body.toString().includes('run-q-forged'))).toBe(false);
    expect(jsonLines<Listed>((await cli('quarantine', 'list', '--json')).stdout).map((entry) => entry.id)).toEqual([forgedId]);
    // Dedupe applies: releasing a result again is a duplicate, not a second delivery.
    expect(await send(NEW_SECRET, 'run-q-1')).toBe(401); // serve still runs with the old config
    expect(JSON.parse((await cli('quarantine', 'release', '--source', 'cerebrium', '--json')).stdout)).toEqual({ matched: 2, released: 1 });
    expect(JSON.parse((await cli('stats', '--json')).stdout).events).toBe(6);

    // Junk over maxBytes: the oldest (the forged one) goes first; the quarantine stays within its bound.
    for (let i = 0; i < 3; i++) {
      const junk = await request(`${relay.url}/webhooks/cerebrium`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(9_000, 0x61 + i) });
      expect(junk.statusCode).toBe(401);
      await junk.body.dump();
    }
    const after = jsonLines<Listed>((await cli('quarantine', 'list', '--json')).stdout);
    expect(after.map((entry) => entry.id)).not.toContain(forgedId);
    expect(after.reduce((sum, entry) => sum + entry.size, 0)).toBeLessThanOrEqual(MAX_BYTES);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.every((entry) => entry.reason === 'HOOKRELAY_SIGNATURE_MISSING')).toBe(true);

    // --force ingests without verifying (an explicit operator act, logged on stderr).
    const forced = await cli('quarantine', 'release', '--id', after[0]!.id, '--force', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ matched: 1, released: 1 });
    expect(forced.stderr).toContain('WITHOUT verification');

    // Unknown ids and names exit 1 naming them; no selector is bad usage.
    const unknownId = await cli('quarantine', 'release', '--id', 'qtn_nope');
    expect(unknownId.code).toBe(1);
    expect(unknownId.stderr).toContain('qtn_nope');
    expect((await cli('quarantine', 'list', '--source', 'nope')).code).toBe(1);
    expect((await cli('quarantine', 'release')).code).toBe(2);
    expect(await relay.stop()).toBe(0);
  }, 90_000);
});
