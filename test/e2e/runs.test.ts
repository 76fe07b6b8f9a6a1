import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it, type HarnessFixtures } from '../support/fixtures.js';
import { startFakeCerebrium, type FakeCerebrium } from '../support/fake-cerebrium.js';
import { waitFor } from '../support/wait.js';
import { ADMIN_TOKEN, call, runsList, startRunsRelay, submit, tenRunsScenario, type RunsRelay } from '../support/runs-scenario.js';

describe('run tracking end to end (SQLite)', () => {
  const setUp = async ({ cleanup, tempDir }: Pick<HarnessFixtures, 'cleanup' | 'tempDir'>, options: { plan?: Parameters<typeof startFakeCerebrium>[0]; runs?: Record<string, unknown> } = {}): Promise<RunsRelay> => {
    const dir = tempDir('hookrelay-runs-');
    const cerebrium: FakeCerebrium = await startFakeCerebrium(options.plan);
    cleanup.add(() => cerebrium.close());
    const relay = await startRunsRelay({ dir, storage: { sqlite: { path: join(dir, 'hookrelay.db') } }, cerebrium, runs: options.runs });
    cleanup.add(() => relay.cleanup());
    return relay;
  };

  it('10 runs through the proxy: 8 completed with metadata echoed, 2 never called back become lost, each announced once', async ({ cleanup, tempDir }) => {
    const relay = await setUp({ cleanup, tempDir }, { plan: (_, index) => (index >= 8 ? { callbackAfterMs: null, status: 'SUCCEEDED' } : { callbackAfterMs: 100 + index * 20 }) });
    await tenRunsScenario(relay);
  });

  it('metadata that is not a JSON object is refused with 400 and nothing is forwarded; the admin token is never forwarded', async ({ cleanup, tempDir }) => {
    const relay = await setUp({ cleanup, tempDir });
    for (const bad of ['[1,2]', 'not json', '"text"']) {
      const answer = await submit(relay.admin, bad);
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe('HOOKRELAY_BAD_REQUEST');
    }
    expect(relay.cerebrium.submissions).toHaveLength(0);
    // A caller that sends the admin token (by mistake) does not get it forwarded; no token is needed on /cerebrium/*.
    const answer = await submit(relay.admin, { a: 1 }, { authorization: `Bearer ${ADMIN_TOKEN}`, cookie: 'hookrelay_session=abc' });
    expect(answer.status).toBe(202);
    const [seen] = relay.cerebrium.submissions;
    expect(seen!.headers.authorization).toBeUndefined();
    expect(seen!.headers.cookie).toBeUndefined();
    expect(JSON.stringify(seen!.headers)).not.toContain(ADMIN_TOKEN);
    // The runs API itself is behind the admin token.
    expect((await call(`${relay.admin}/admin/api/runs`)).status).toBe(401);
    const listed = await call(`${relay.admin}/admin/api/runs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(listed.json.runs.map((run: { runId: string }) => run.runId)).toEqual([answer.json.run_id]);
  });

  it('registration without a status API: the run becomes overdue (announced) and stays overdue; unknown runs exit 1', async ({ cleanup, tempDir, runCli }) => {
    const relay = await setUp({ cleanup, tempDir }, { runs: { status: undefined } });
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ runId: 'registered-1', app: 'ocr', metadata: { invoice: 42 } });
    const created = await call(`${relay.admin}/admin/api/runs`, { method: 'POST', headers: auth, body });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ runId: 'registered-1', app: 'ocr', status: 'submitted', metadata: { invoice: 42 }, completedAt: null, durationMs: null });
    const again = await call(`${relay.admin}/admin/api/runs`, { method: 'POST', headers: auth, body });
    expect(again.status).toBe(200);
    expect((await call(`${relay.admin}/admin/api/runs`, { method: 'POST', headers: auth, body: '{"runId":""}' })).status).toBe(400);
    expect((await call(`${relay.admin}/admin/api/runs`, { method: 'POST', headers: auth, body: '{"runId":"x","metadata":[1]}' })).status).toBe(400);

    await waitFor(() => relay.pager.received.length >= 1, { timeoutMs: 15_000, what: 'the overdue announcement' });
    expect(JSON.parse(relay.pager.received[0]!.body.toString())).toMatchObject({ type: 'run.overdue', runId: 'registered-1', app: 'ocr', metadata: { invoice: 42 } });
    const shown = await call(`${relay.admin}/admin/api/runs/registered-1`, { headers: auth });
    expect(shown.json.status).toBe('overdue');
    expect(relay.cerebrium.statusRequests).toHaveLength(0);
    expect((await call(`${relay.admin}/admin/api/runs/nope`, { headers: auth })).status).toBe(404);

    const unknown = await runCli(['runs', 'show', 'nope', '--config', relay.configPath]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nope');
    const bad = await runCli(['runs', 'list', '--status', 'bogus', '--config', relay.configPath]);
    expect(bad.code).toBe(2);
    const checked = await runCli(['check-config', '--json', '--config', relay.configPath]);
    expect(JSON.parse(checked.stdout).runs).toMatchObject({ source: 'cerebrium', statusApi: false, announceTo: ['pager'] });
    const table = await runCli(['runs', 'list', '--config', relay.configPath]);
    expect(table.stdout).toContain('registered-1');
    expect(table.stdout).toContain('overdue');
  });

  it('Cerebrium down: 502 with a clear body, nothing recorded', async ({ cleanup, tempDir }) => {
    const cerebrium = await startFakeCerebrium();
    const downUrl = cerebrium.url;
    await cerebrium.close();
    const dir = tempDir('hookrelay-runs-down-');
    const relay = await startRunsRelay({ dir: dir, storage: { sqlite: { path: join(dir, 'hookrelay.db') } }, cerebrium: { ...cerebrium, url: downUrl } });
    cleanup.add(() => relay.cleanup());
    const answer = await submit(relay.admin, { doc: 1 });
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe('HOOKRELAY_CEREBRIUM_UNREACHABLE');
    expect(answer.json.error.message).toContain('did not answer');
    expect(await runsList(relay.configPath)).toEqual([]);
  });

  it('a status API answering 503 pauses the checks instead of asking again and again', async ({ cleanup, tempDir }) => {
    const relay = await setUp({ cleanup, tempDir }, { plan: () => ({ callbackAfterMs: null }) });
    relay.cerebrium.failStatus(503);
    for (let i = 0; i < 6; i++) expect((await submit(relay.admin, { i })).status).toBe(202);
    await waitFor(async () => (await runsList(relay.configPath, 'overdue')).length === 6, { timeoutMs: 15_000, what: 'six overdue runs' });
    // The first 503 pauses checking: only the checks already in flight (at most 4 at once) were asked.
    await waitFor(() => relay.relay.lines.some((line) => line.includes('pausing checks')), { what: 'the checker to pause' });
    const asked = relay.cerebrium.statusRequests.length;
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(asked).toBeLessThanOrEqual(4);
    relay.cerebrium.failStatus(null);
    const backAt = relay.cerebrium.statusRequests.length;
    await waitFor(() => new Set(relay.cerebrium.statusRequests.slice(backAt).map((request) => request.runId)).size === 6, {
      timeoutMs: 15_000,
      what: 'every overdue run checked once the API is back',
    });
    expect(await runsList(relay.configPath, 'overdue')).toHaveLength(6);
  });
});
