import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { expect } from 'vitest';
import { jsonLines, runCli } from './cli.mjs';
import { freePort, startFakeCerebrium, type FakeCerebrium } from './fake-cerebrium.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from './relay.mjs';
import { cerebriumRequest } from './signed-request.js';
import { startSink, type Sink } from './sink.js';
import { waitFor } from './wait.js';

/**
 * Run tracking end to end with the real `serve`, on the storage the caller gives
 * (`storage` config), so the same cases run on SQLite and PostgreSQL.
 */
export const ADMIN_TOKEN = 'admin-token-never-forwarded';
export const CEREBRIUM_KEY = 'caller-cerebrium-key';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, any>;
}

export async function call(url: string, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const response = await request(url, { method: options.method ?? 'GET', headers: options.headers, body: options.body });
  const text = await response.body.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    json = {};
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

export interface RunsRelay {
  relay: RelayProcess;
  configPath: string;
  admin: string;
  app: Sink;
  pager: Sink;
  cerebrium: FakeCerebrium;
  cleanup(): Promise<void>;
}

/** A relay with run tracking, an `app` destination (the callbacks) and a `pager` destination (sources: [runs]). */
export async function startRunsRelay(options: {
  dir: string;
  storage: Record<string, unknown>;
  cerebrium: FakeCerebrium;
  /** Overrides of the `runs` section. */
  runs?: Record<string, unknown>;
  /** Destinations shared with another relay (default: new sinks, closed by cleanup). */
  sinks?: { app: Sink; pager: Sink };
}): Promise<RunsRelay> {
  mkdirSync(options.dir, { recursive: true });
  const [app, pager] = options.sinks ? [options.sinks.app, options.sinks.pager] : await Promise.all([startSink(), startSink()]);
  const port = await freePort();
  const configPath = writeConfig(
    options.dir,
    relayConfig(options.dir, {
      server: { host: '127.0.0.1', port },
      admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
      storage: options.storage,
      destinations: [
        { name: 'app', url: app.url },
        { name: 'pager', url: pager.url, sources: ['runs'] },
      ],
      runs: {
        source: 'cerebrium',
        publicUrl: `http://127.0.0.1:${port}`,
        cerebriumUrl: options.cerebrium.url,
        overdueAfterMs: 1_500,
        status: { url: `${options.cerebrium.url}/v2/projects/{project}/apps/{project}-{app}/runs/{run_id}`, token: 'service-account-token', everyMs: 200 },
        ...options.runs,
      },
    }),
  );
  const relay = await startRelay(configPath, { timeoutMs: 30_000 });
  return {
    relay,
    configPath,
    admin: `http://127.0.0.1:${relay.adminPort}`,
    app,
    pager,
    cerebrium: options.cerebrium,
    async cleanup() {
      await relay.kill();
      if (!options.sinks) await Promise.all([app.close(), pager.close()]);
    },
  };
}

export function submit(admin: string, metadata: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call(`${admin}/cerebrium/v4/p-test/summarise/run?async=true&webhookEndpoint=https://elsewhere.example/hook`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${CEREBRIUM_KEY}`,
      'content-type': 'application/json',
      ...(metadata === undefined ? {} : { 'x-hookrelay-metadata': typeof metadata === 'string' ? metadata : asciiJson(metadata) }),
      ...headers,
    },
    body: JSON.stringify({ prompt: 'summarise this' }),
  });
}

/** JSON with non-ASCII characters as \u escapes: what a header value can carry. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function runsList(configPath: string, status?: string): Promise<Record<string, any>[]> {
  const result = await runCli(['runs', 'list', '--json', '--config', configPath, ...(status ? ['--status', status] : [])]);
  if (result.code !== 0) throw new Error(`runs list failed: ${result.stderr}`);
  return jsonLines(result.stdout);
}

/**
 * 10 runs through the proxy, 2 never called back: the 8 complete with their metadata echoed,
 * the 2 become overdue then lost, each announced once; a late callback still completes one.
 */
export async function tenRunsScenario(relay: RunsRelay): Promise<void> {
  const { admin, app, pager, cerebrium, configPath } = relay;
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(admin, { doc: `doc-${i}`, note: 'naïve ✓' })));
  for (const answer of answers) {
    expect(answer.status).toBe(202);
    expect(answer.json.run_id).toMatch(/^run-/);
  }
  const runIds = answers.map((answer) => answer.json.run_id as string);
  // Committed before the answer: every run is listed at once.
  expect((await runsList(configPath)).map((run) => run.runId).sort()).toEqual([...runIds].sort());

  // What Cerebrium saw: the relay's webhookEndpoint and secret, the caller's key, no metadata header, never the admin token.
  for (const submission of cerebrium.submissions) {
    expect(submission.path).toBe('/v4/p-test/summarise/run');
    expect(submission.query.get('async')).toBe('true');
    expect(submission.query.getAll('webhookEndpoint')).toEqual([`http://127.0.0.1:${relay.relay.port}/webhooks/cerebrium`]);
    expect(submission.headers['x-webhook-secret']).toBe(TEST_SECRET);
    expect(submission.headers.authorization).toBe(`Bearer ${CEREBRIUM_KEY}`);
    expect(submission.headers['x-hookrelay-metadata']).toBeUndefined();
    expect(JSON.parse(submission.body.toString())).toEqual({ prompt: 'summarise this' });
    expect(JSON.stringify(submission.headers)).not.toContain(ADMIN_TOKEN);
  }

  const neverCalledBack = runIds.filter((runId) => !cerebrium.callbacks.has(runId) && runId.match(/^run-(8|9)-/));
  expect(neverCalledBack).toHaveLength(2);
  await waitFor(async () => (await runsList(configPath, 'lost')).length === 2, { timeoutMs: 20_000, what: 'two lost runs' });
  const runs = await runsList(configPath);
  const completed = runs.filter((run) => run.status === 'completed');
  expect(completed).toHaveLength(8);
  for (const run of completed) {
    expect(run).toMatchObject({ app: 'summarise', project: 'p-test' });
    expect(typeof run.durationMs).toBe('number');
    expect(run.eventId).toMatch(/^evt_/);
    expect(run.completedAt).toEqual(expect.any(String));
  }
  expect(runs.filter((run) => run.status === 'lost').map((run) => run.runId).sort()).toEqual([...neverCalledBack].sort());

  // The 8 callbacks reached the app with their run's metadata echoed.
  await waitFor(() => app.received.length >= 8, { what: 'eight callbacks delivered' });
  for (const delivery of app.received) {
    const runId = JSON.parse(delivery.body.toString()).run_id as string;
    const index = runIds.indexOf(runId);
    expect(JSON.parse(String(delivery.headers['hookrelay-run-metadata']))).toEqual({ doc: `doc-${index}`, note: 'naïve ✓' });
  }

  // Announced once per run and kind: 2 overdue + 2 lost.
  await waitFor(() => pager.received.length >= 4, { what: 'four announcements' });
  const announced = pager.received.map((delivery) => JSON.parse(delivery.body.toString()) as Record<string, any>);
  expect(announced.map((body) => `${body.type} ${body.runId}`).sort()).toEqual(
    [...neverCalledBack.map((id) => `run.lost ${id}`), ...neverCalledBack.map((id) => `run.overdue ${id}`)].sort(),
  );
  for (const body of announced) {
    expect(body).toMatchObject({ app: 'summarise', metadata: { note: 'naïve ✓' } });
    expect(new Date(body.submittedAt).toISOString()).toBe(body.submittedAt);
  }
  for (const delivery of pager.received) expect(delivery.headers['hookrelay-source']).toBe('runs');
  // Exactly four announcement deliveries exist: none was committed twice.
  const pagerStats = async () =>
    (JSON.parse((await runCli(['stats', '--json', '--config', configPath])).stdout) as { destinations: Record<string, Record<string, number>> }).destinations.pager!;
  await waitFor(async () => (await pagerStats()).delivered === 4, { what: 'four announcements delivered' });
  const { pending, dead } = await pagerStats();
  expect(pending! + dead!).toBe(0);

  // Metrics: every status, and the durations of the 8.
  const metrics = (await call(`${admin}/metrics`)).text;
  expect(metrics).toContain('hookrelay_runs{status="completed"} 8');
  expect(metrics).toContain('hookrelay_runs{status="lost"} 2');
  expect(metrics).toContain('hookrelay_runs{status="overdue"} 0');
  expect(metrics).toContain('hookrelay_runs{status="submitted"} 0');
  expect(metrics).toMatch(/hookrelay_run_duration_seconds_count 8\b/);

  // The status API was asked with the service-account token, on the project/app URL.
  expect(cerebrium.statusRequests.length).toBeGreaterThanOrEqual(2);
  expect(cerebrium.statusRequests[0]!.headers.authorization).toBe('Bearer service-account-token');

  // A late callback still completes a lost run.
  const late = neverCalledBack[0]!;
  const signed = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: late, result: 'late' }), requestId: late });
  const accepted = await call(`${relay.relay.url}/webhooks/cerebrium`, { method: 'POST', headers: signed.headers, body: signed.body.toString() });
  expect(accepted.status).toBe(202);
  const shown = await runCli(['runs', 'show', late, '--json', '--config', configPath]);
  expect(JSON.parse(shown.stdout)).toMatchObject({ runId: late, status: 'completed', eventId: accepted.json.id });

  // Neither the caller's key nor the webhook secret nor the admin token is logged.
  const logs = relay.relay.lines.join('\n') + relay.relay.stderr();
  for (const secret of [CEREBRIUM_KEY, TEST_SECRET, ADMIN_TOKEN]) expect(logs).not.toContain(secret);
}

export { startFakeCerebrium, join };
