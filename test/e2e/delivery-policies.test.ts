import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { openBrowser } from '../support/browser.js';
import { jsonLines } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { TEST_SECRET } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';
import { attemptLog, countById, postEvents, stats, workspace } from '../support/delivery.js';

async function metrics(adminPort: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  return response.text();
}

const FAST_RETRY = { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 100 };

describe('delivery policies end to end', () => {
  it('filter: 20 events, only the matching ones are queued for the filtered destination; stats and the metric agree; redeliver to it still works', async ({ cleanup, startRelay, runCli, startSink }) => {
    const everything = await startSink();
    const successes = await startSink();
    const ws = workspace(cleanup, {
      admin: { host: '127.0.0.1', port: 0 },
      destinations: [
        { name: 'all', url: everything.url },
        { name: 'successes', url: successes.url, filter: { 'body:status': ['success', 'completed'], 'header:x-kind': ['run'] } },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    const statuses = ['success', 'failed', 'completed', 'running'];
    const ids: { id: string; matches: boolean }[] = [];
    for (let index = 0; index < 20; index += 1) {
      const status = statuses[index % 4]!;
      // Every fifth event lacks the header: it does not match whatever its status.
      const signed = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `filter-${index}`, status }) });
      const answer = await post(`${relayProcess.url}/webhooks/cerebrium`, signed, index % 5 === 4 ? {} : { 'x-kind': 'run' });
      expect(answer.status).toBe(202);
      ids.push({ id: String(answer.json!.id), matches: (status === 'success' || status === 'completed') && index % 5 !== 4 });
    }
    const matching = ids.filter((event) => event.matches).map((event) => event.id);
    expect(matching.length).toBeGreaterThan(0);
    expect(matching.length).toBeLessThan(20);

    await waitFor(() => everything.received.length === 20 && successes.received.length === matching.length, { timeoutMs: 20_000, what: 'deliveries at both sinks' });
    const final = await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.deliveries.delivered === 20 + matching.length ? current : null;
    }, { timeoutMs: 15_000, intervalMs: 300, what: 'stats to show every delivery delivered' });
    expect(final.events).toBe(20);
    expect(final.destinations.successes).toMatchObject({ pending: 0, delivered: matching.length, dead: 0 });
    expect([...countById(successes.received).keys()].sort()).toEqual([...matching].sort());
    expect(await metrics(relayProcess.adminPort!)).toContain(`hookrelay_filtered_total{destination="successes"} ${20 - matching.length}`);

    // Explicitly, a filtered event can still be sent there.
    const skipped = ids.find((event) => !event.matches)!.id;
    const redelivered = await runCli(['redeliver', '--event', skipped, '--destination', 'successes', '--json', '--config', ws.configPath]);
    expect(redelivered.code).toBe(0);
    await waitFor(() => successes.received.some((request) => request.headers['webhook-id'] === skipped), { timeoutMs: 15_000, what: 'the explicit redelivery' });
    expect(await relayProcess.stop()).toBe(0);
  });

  it('fallback: primary always 500 with maxAttempts 2 -> every event at the fallback exactly once, with hookrelay-fallback-for; the dead letters stay', async ({ cleanup, startRelay, runCli, startSink }) => {
    const primary = await startSink(() => 500);
    const archive = await startSink();
    const ws = workspace(cleanup, {
      admin: { host: '127.0.0.1', port: 0 },
      destinations: [
        { name: 'app', url: primary.url, fallback: 'archive', retry: FAST_RETRY, circuitBreaker: { volumeThreshold: 1000 } },
        { name: 'archive', url: archive.url, sources: ['runs'] },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    const events = await postEvents(relayProcess.url, 20, { prefix: 'fb' });
    await waitFor(() => archive.received.length >= 20, { timeoutMs: 30_000, what: 'every event at the fallback' });
    const final = await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.destinations.archive!.delivered === 20 && current.destinations.app!.dead === 20 ? current : null;
    }, { timeoutMs: 15_000, intervalMs: 300, what: 'app dead and archive delivered in stats' });
    expect(final.destinations.app).toMatchObject({ pending: 0, delivered: 0, dead: 20 });
    expect(primary.received).toHaveLength(40);

    const counts = countById(archive.received);
    expect([...counts.keys()].sort()).toEqual(events.map((event) => event.id).sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    for (const request of archive.received) {
      expect(request.headers['hookrelay-fallback-for']).toBe('app');
      expect(request.headers['hookrelay-attempt']).toBe('1');
      expect(request.body.equals(events.find((event) => event.id === request.headers['webhook-id'])!.body)).toBe(true);
    }
    expect(primary.received.every((request) => request.headers['hookrelay-fallback-for'] === undefined)).toBe(true);

    const dead = jsonLines<{ id: string; eventId: string }>((await runCli(['dlq', 'list', '--json', '--config', ws.configPath])).stdout);
    expect(dead).toHaveLength(20);
    const shown = JSON.parse((await runCli(['deliveries', 'show', dead[0]!.id, '--json', '--config', ws.configPath])).stdout) as {
      delivery: { status: string; fallbackFor: string | null };
      fellBackTo: string | null;
    };
    expect(shown).toMatchObject({ delivery: { status: 'dead', fallbackFor: null }, fellBackTo: 'archive' });
    const human = (await runCli(['deliveries', 'show', dead[0]!.id, '--config', ws.configPath])).stdout;
    expect(human).toMatch(/fell back to:\s+archive/);
    // Counted from the delivery thread's reports, which follow the commits.
    await waitFor(async () => (await metrics(relayProcess.adminPort!)).includes('hookrelay_fallbacks_total{from="app",to="archive"} 20'), {
      timeoutMs: 10_000,
      what: 'the 20 fallbacks in /metrics',
    });

    // The admin API's event detail lists the fallback delivery with what it fell back for.
    const detail = (await (await fetch(`http://127.0.0.1:${relayProcess.adminPort}/admin/api/events/${dead[0]!.eventId}`)).json()) as {
      deliveries: { destination: string; status: string; fallbackFor: string | null }[];
    };
    expect(detail.deliveries.map((d) => [d.destination, d.status, d.fallbackFor])).toEqual([['app', 'dead', null], ['archive', 'delivered', 'app']]);

    // The dashboard's event page says where the event fell back to.
    const errors: string[] = [];
    const browser = await openBrowser(errors);
    cleanup.add(() => browser.close());
    await browser.page.goto(`http://127.0.0.1:${relayProcess.adminPort}/#/events/${dead[0]!.eventId}`);
    const appSection = browser.page.locator('section.delivery', { has: browser.page.getByRole('heading', { name: /^app/ }) });
    await expect.poll(() => appSection.locator('.fallback').textContent(), { timeout: 15_000 }).toBe(' · fell back to archive');
    const archiveSection = browser.page.locator('section.delivery', { has: browser.page.getByRole('heading', { name: /^archive/ }) });
    expect(await archiveSection.locator('.fallback').textContent()).toBe(' · fallback for app');
    expect(errors).toEqual([]);
    expect(await relayProcess.stop()).toBe(0);
  });

  it('fallback survives SIGKILL during the dying attempt: exactly one fallback delivery after restart', async ({ cleanup, startRelay, startSink }) => {
    let holding = false;
    // The first attempt fails; the second (the last of the budget) is held open until the relay is killed.
    const primary = await startSink((request) => {
      if (request.headers['hookrelay-attempt'] === '1') return 500;
      if (!holding) {
        holding = true;
        return 'handled';
      }
      return 500;
    });
    const archive = await startSink();
    const ws = workspace(cleanup, {
      destinations: [
        { name: 'app', url: primary.url, fallback: 'archive', retry: FAST_RETRY, timeoutMs: 60_000, circuitBreaker: { volumeThreshold: 1000 } },
        { name: 'archive', url: archive.url, sources: ['runs'] },
      ],
    });
    const first = await startRelay(ws.configPath);
    const [event] = await postEvents(first.url, 1, { prefix: 'kill' });
    await waitFor(() => holding && primary.received.length === 2, { timeoutMs: 15_000, what: 'the dying attempt to be in flight' });
    expect(await first.kill()).toBe('SIGKILL');
    expect(archive.received).toHaveLength(0);

    const second = await startRelay(ws.configPath);
    await waitFor(() => archive.received.length === 1, { timeoutMs: 20_000, what: 'the fallback delivery after restart' });
    await waitFor(async () => (await stats(ws.configPath)).destinations.archive!.delivered === 1, { timeoutMs: 15_000, intervalMs: 300, what: 'the fallback recorded' });
    const final = await stats(ws.configPath);
    expect(final.destinations.app).toMatchObject({ dead: 1, pending: 0, delivered: 0 });
    expect(final.destinations.archive).toMatchObject({ pending: 0, delivered: 1, dead: 0 });
    expect(archive.received[0]!.headers['webhook-id']).toBe(event!.id);
    expect(archive.received[0]!.headers['hookrelay-fallback-for']).toBe('app');
    expect(await second.stop()).toBe(0);
    expect(archive.received).toHaveLength(1);
  });

  it('rate limit: 40 events at perSecond 10 -> never more than 10 attempts started in any second (retries included), all delivered, the breaker stays closed', async ({ cleanup, startRelay, startSink }) => {
    // The first attempt of every eighth event fails: its retry goes through the same limit.
    const consumer = await startSink((request) => (request.headers['hookrelay-attempt'] === '1' && Number(JSON.parse(request.body.toString()).index) % 8 === 0 ? 500 : 200));
    const ws = workspace(cleanup, {
      admin: { host: '127.0.0.1', port: 0 },
      destinations: [{ name: 'limited', url: consumer.url, concurrency: 16, rateLimit: { perSecond: 10 }, retry: { initialDelayMs: 50, maxDelayMs: 100 } }],
    });
    const relayProcess = await startRelay(ws.configPath);
    await postEvents(relayProcess.url, 40, { prefix: 'rl' });
    await waitFor(() => consumer.received.length >= 45, { timeoutMs: 30_000, what: '40 deliveries and 5 retries' });
    await waitFor(async () => (await stats(ws.configPath)).destinations.limited!.delivered === 40, { timeoutMs: 15_000, intervalMs: 300, what: 'all 40 delivered' });

    const starts = attemptLog(ws.dbPath, 'limited').map((attempt) => attempt.started_at).sort((a, b) => a - b);
    expect(starts).toHaveLength(45);
    let busiest = 0;
    for (const [index, start] of starts.entries()) busiest = Math.max(busiest, starts.slice(index).filter((at) => at < start + 1000).length);
    expect(busiest).toBeLessThanOrEqual(10);
    // The limit was what held them back (40 ready at once), not an idle relay.
    expect(busiest).toBeGreaterThanOrEqual(8);
    // The attempt counters follow the delivery thread's reports, a moment after the commits.
    const text = await waitFor(async () => {
      const scraped = await metrics(relayProcess.adminPort!);
      return scraped.includes('hookrelay_delivery_attempts_total{destination="limited",outcome="delivered"} 40') ? scraped : null;
    }, { timeoutMs: 10_000, what: 'the 40 delivered attempts in /metrics' });
    expect(text).toContain('hookrelay_circuit_open{destination="limited"} 0');
    expect(Number(/hookrelay_rate_limit_wait_seconds_total\{destination="limited"\} ([\d.e+-]+)/.exec(text)?.[1])).toBeGreaterThan(0);
    expect(await relayProcess.stop()).toBe(0);
  });
});
