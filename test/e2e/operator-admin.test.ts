import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'admin-token-for-tests';

interface Answer {
  status: number;
  json: Record<string, unknown>;
  text: string;
}

async function call(url: string, { method = 'GET', token, body }: { method?: string; token?: string; body?: unknown } = {}): Promise<Answer> {
  const response = await request(url, {
    method: method as 'GET' | 'POST',
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status: response.statusCode, json, text };
}

/** Prometheus text -> value of one series, e.g. `hookrelay_circuit_open{destination="bad"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('admin listener end to end: /metrics after a known sequence, token, admin API replay and redeliver', () => {
  async function setup(cleanup: Cleanup, token: string) {
    const dir = tempDir('hookrelay-admin-');
    cleanup.add(dir.cleanup);
    const good: Sink = await startSink(() => 200);
    cleanup.add(() => good.close());
    const bad: Sink = await startSink(() => 500);
    cleanup.add(() => bad.close());
    const configPath = writeConfig(
      dir.path,
      relayConfig(dir.path, {
        admin: { host: '127.0.0.1', port: 0, token },
        destinations: [
          { name: 'good', url: good.url },
          {
            name: 'bad',
            url: bad.url,
            retry: { maxAttempts: 1 },
            // Three failed attempts open it; it stays open (or half-open) until an attempt succeeds.
            circuitBreaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 500 },
          },
        ],
      }),
    );
    const relay: RelayProcess = await startRelay(configPath);
    cleanup.add(() => relay.kill());
    expect(relay.adminPort).toEqual(expect.any(Number));
    return { configPath, relay, good, bad, admin: `http://127.0.0.1:${relay.adminPort}` };
  }

  it('shows the contract series with the right values, guards /admin with the token, replays and redelivers through the API', async ({ runCli, cleanup }) => {
    const { configPath, relay, good, bad, admin } = await setup(cleanup, TOKEN);
    const source = `${relay.url}/webhooks/cerebrium`;
    // Known sequence: 3 accepted, 1 duplicate, 2 rejected.
    const eventIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await post(source, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `m-${i}` }) }));
      expect(answer.status).toBe(202);
      eventIds.push(String(answer.json!.id));
    }
    expect((await post(source, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: 'm-0' }) }))).status).toBe(200);
    expect((await post(source, cerebriumRequest({ secret: 'wrong-secret', body: '{"run_id":"x"}' }))).status).toBe(401);
    const unsigned = cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"y"}' });
    delete unsigned.headers['x-cerebrium-webhook-signature'];
    expect((await post(source, unsigned)).status).toBe(401);

    await waitFor(() => good.received.length === 3 && bad.received.length === 3, { timeoutMs: 15_000, what: 'all first attempts' });
    let metrics = '';
    await waitFor(
      async () => {
        metrics = (await call(`${admin}/metrics`)).text;
        // Attempt counters come from the delivery thread's reports, which may reach the metrics a
        // moment after the results are committed: wait for both, then check every series exactly.
        return sample(metrics, 'hookrelay_deliveries{destination="bad",status="dead"}') === 3 &&
          sample(metrics, 'hookrelay_deliveries{destination="good",status="delivered"}') === 3 &&
          (sample(metrics, 'hookrelay_delivery_attempts_total{destination="good",outcome="delivered"}') ?? 0) >= 3 &&
          (sample(metrics, 'hookrelay_delivery_attempts_total{destination="bad",outcome="failed"}') ?? 0) >= 3;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'metrics to show the outcomes' },
    );
    const expected: Record<string, number> = {
      'hookrelay_events_received_total{source="cerebrium",outcome="accepted"}': 3,
      'hookrelay_events_received_total{source="cerebrium",outcome="duplicate"}': 1,
      'hookrelay_events_received_total{source="cerebrium",outcome="rejected"}': 2,
      'hookrelay_delivery_attempts_total{destination="good",outcome="delivered"}': 3,
      'hookrelay_delivery_attempts_total{destination="good",outcome="failed"}': 0,
      'hookrelay_delivery_attempts_total{destination="bad",outcome="delivered"}': 0,
      'hookrelay_delivery_attempts_total{destination="bad",outcome="failed"}': 3,
      'hookrelay_deliveries{destination="good",status="pending"}': 0,
      'hookrelay_deliveries{destination="good",status="in_flight"}': 0,
      'hookrelay_deliveries{destination="good",status="delivered"}': 3,
      'hookrelay_deliveries{destination="good",status="dead"}': 0,
      'hookrelay_deliveries{destination="bad",status="pending"}': 0,
      'hookrelay_deliveries{destination="bad",status="delivered"}': 0,
      'hookrelay_deliveries{destination="bad",status="dead"}': 3,
      'hookrelay_circuit_open{destination="good"}': 0,
      'hookrelay_circuit_open{destination="bad"}': 1,
      'hookrelay_delivery_duration_seconds_count{destination="good"}': 3,
      'hookrelay_delivery_duration_seconds_count{destination="bad"}': 3,
    };
    for (const [series, value] of Object.entries(expected)) expect(sample(metrics, series), series).toBe(value);
    expect(metrics).toContain('# TYPE hookrelay_delivery_duration_seconds histogram');
    expect(metrics).toContain('# TYPE hookrelay_deliveries gauge');
    expect(metrics).toMatch(/^process_cpu_user_seconds_total /m);
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes /m);

    // The token: missing or wrong -> 401 JSON, right -> 200. /metrics needed none.
    for (const token of [undefined, 'wrong', `${TOKEN}x`, '']) {
      const denied = await call(`${admin}/admin/api/deliveries?status=dead`, { token });
      expect(denied.status, `token ${String(token)}`).toBe(401);
      expect(denied.json).toMatchObject({ error: { code: 'HOOKRELAY_UNAUTHORIZED', message: expect.any(String) } });
    }
    const deniedReplay = await call(`${admin}/admin/api/replay`, { method: 'POST', body: { all: true } });
    expect(deniedReplay.status).toBe(401);

    const dead = await call(`${admin}/admin/api/deliveries?status=dead&destination=bad&limit=2`, { token: TOKEN });
    expect(dead.status).toBe(200);
    const page = dead.json as { deliveries: { id: string; status: string }[]; nextCursor: string };
    expect(page.deliveries).toHaveLength(2);
    expect(page.deliveries.every((d) => d.status === 'dead')).toBe(true);
    const rest = await call(`${admin}/admin/api/deliveries?status=dead&destination=bad&limit=2&cursor=${page.nextCursor}`, { token: TOKEN });
    expect((rest.json as { deliveries: unknown[]; nextCursor: null }).deliveries).toHaveLength(1);
    expect(rest.json.nextCursor).toBeNull();

    const found = await call(`${admin}/admin/api/events?query=m-1`, { token: TOKEN });
    expect((found.json as { events: { id: string }[] }).events.map((e) => e.id)).toEqual([eventIds[1]]);
    const detail = await call(`${admin}/admin/api/events/${eventIds[1]}`, { token: TOKEN });
    expect(detail.status).toBe(200);
    const event = detail.json as { event: { dedupeKey: string; body: string }; deliveries: { destination: string; status: string; attemptLog: { statusCode: number }[] }[] };
    expect(event.event.dedupeKey).toBe('m-1');
    expect(JSON.parse(event.event.body)).toEqual({ run_id: 'm-1' });
    expect(event.deliveries.map((d) => [d.destination, d.status, d.attemptLog.map((a) => a.statusCode)]).sort()).toEqual([
      ['bad', 'dead', [500]],
      ['good', 'delivered', [200]],
    ]);
    const oneDelivery = await call(`${admin}/admin/api/deliveries/${page.deliveries[0]!.id}`, { token: TOKEN });
    expect(oneDelivery.json).toMatchObject({ delivery: { id: page.deliveries[0]!.id, status: 'dead' }, attempts: [{ number: 1, statusCode: 500 }] });
    expect((await call(`${admin}/admin/api/events/evt_nope`, { token: TOKEN })).status).toBe(404);

    // Replay through the API: dry run, then for real once the destination is fixed.
    const dry = await call(`${admin}/admin/api/replay`, { method: 'POST', token: TOKEN, body: { destination: 'bad', dryRun: true } });
    expect(dry).toMatchObject({ status: 200, json: { matched: 3, replayed: 0, dryRun: true } });
    bad.behave(() => 200);
    const replayed = await call(`${admin}/admin/api/replay`, { method: 'POST', token: TOKEN, body: { destination: 'bad', since: '1h' } });
    expect(replayed).toMatchObject({ status: 200, json: { matched: 3, replayed: 3, dryRun: false } });
    await waitFor(() => bad.received.length === 6, { timeoutMs: 20_000, what: 'replayed deliveries (after the breaker lets a probe through)' });
    expect(new Set(bad.received.slice(3).map((r) => r.headers['webhook-id']))).toEqual(new Set(eventIds));
    await waitFor(
      async () => {
        metrics = (await call(`${admin}/metrics`)).text;
        // As above: the attempt counters and breaker states follow the delivery thread's reports.
        return sample(metrics, 'hookrelay_deliveries{destination="bad",status="delivered"}') === 3 &&
          (sample(metrics, 'hookrelay_delivery_attempts_total{destination="bad",outcome="delivered"}') ?? 0) >= 3 &&
          sample(metrics, 'hookrelay_circuit_open{destination="bad"}') === 0;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'metrics after the replay' },
    );
    expect(sample(metrics, 'hookrelay_circuit_open{destination="bad"}')).toBe(0);
    expect(sample(metrics, 'hookrelay_delivery_attempts_total{destination="bad",outcome="delivered"}')).toBe(3);
    expect(sample(metrics, 'hookrelay_deliveries{destination="bad",status="dead"}')).toBe(0);

    // Redeliver through the API.
    const redelivered = await call(`${admin}/admin/api/redeliver`, { method: 'POST', token: TOKEN, body: { eventId: eventIds[2], destination: 'good' } });
    expect(redelivered.status).toBe(200);
    expect(redelivered.json).toMatchObject({ eventId: eventIds[2], redelivered: [{ destination: 'good' }], inFlight: [] });
    await waitFor(() => good.received.length === 4, { timeoutMs: 15_000, what: 'the redelivery' });
    expect(good.received[3]!.headers['webhook-id']).toBe(eventIds[2]);

    const stats = await call(`${admin}/admin/api/stats`, { token: TOKEN });
    expect(stats.json).toMatchObject({ events: 3, circuits: { good: 'closed', bad: 'closed' } });
    // The CLI sees the same database while serve runs.
    const cli = await runCli(['stats', '--json', '--config', configPath]);
    expect(JSON.parse(cli.stdout)).toMatchObject({ events: 3 });
    expect(await relay.stop()).toBe(0);
    // The admin listener is closed with the rest.
    await expect(call(`${admin}/metrics`)).rejects.toThrow();
  });

  it('without admin.token the API is open; /metrics is always open', async ({ cleanup }) => {
    const { admin, relay } = await setup(cleanup, '');
    expect((await call(`${admin}/admin/api/stats`)).status).toBe(200);
    expect((await call(`${admin}/metrics`)).status).toBe(200);
    expect(await relay.stop()).toBe(0);
  });
});
