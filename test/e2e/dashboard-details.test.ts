import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { openBrowser } from '../support/browser.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Breakers that never open: these destinations' deliveries wait for their backoff, not a circuit. */
const NO_BREAKER = { volumeThreshold: 1000 };

describe('dashboard details: delivery status per event, why a delivery waits, masked URLs, y scale, JSON bodies, last response', () => {
  it('shows them in headless Chromium, with screenshots of each page', async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir();
    const shots = tempDir('hookrelay-screenshots-');
    const answer = (status: number, body: string) => (_request: unknown, response: import('node:http').ServerResponse) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
      return 'handled' as const;
    };
    const flakySink = await startSink(() => 503);
    const laterSink = await startSink(answer(503, '{"error":"upstream busy"}'));
    const dyingSink = await startSink(answer(500, '{"error":"database is down"}'));
    for (const sink of [flakySink, laterSink, dyingSink]) cleanup.add(() => sink.close());
    const flakyUrl = `http://deliver:pa55word@127.0.0.1:${flakySink.port}/hooks?token=tok-secret`;
    const configPath = writeConfig(
      dir,
      relayConfig(dir, {
        admin: { host: '127.0.0.1', port: 0 },
        sources: [{
          name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] },
          quarantine: { maxBytes: 1_048_576, maxAgeMs: '1h' },
        }],
        destinations: [
          {
            name: 'flaky', url: flakyUrl, concurrency: 1, retry: { maxAttempts: 12, initialDelayMs: 200 },
            circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 600_000 },
          },
          { name: 'later', url: laterSink.url, retry: { maxAttempts: 5, initialDelayMs: 600_000 }, circuitBreaker: NO_BREAKER },
          { name: 'dying', url: dyingSink.url, retry: { maxAttempts: 1 }, circuitBreaker: NO_BREAKER },
        ],
      }),
    );
    const relay = await startRelay(configPath);

    const body = JSON.stringify({ run_id: 'run-detail-0', status: 'succeeded', note: '<img src=x onerror="window.pwned=1">', result: { score: 0.9 } });
    expect((await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }))).status).toBe(202);
    for (let index = 1; index < 4; index += 1) {
      const more = JSON.stringify({ run_id: `run-detail-${index}` });
      expect((await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: more }))).status).toBe(202);
    }
    // Signed with a secret the relay does not know: 401, kept in quarantine.
    const forged = cerebriumRequest({ secret: 'rotated-elsewhere', body: JSON.stringify({ run_id: 'run-detail-forged' }) });
    expect((await post(`${relay.url}/webhooks/cerebrium`, forged)).status).toBe(401);

    const errors: string[] = [];
    const browser = await openBrowser(errors);
    cleanup.add(() => browser.close());
    const { page } = browser;
    const admin = `http://127.0.0.1:${relay.adminPort}/`;
    const screenshot = async (name: string) => {
      const path = join(shots, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      expect(statSync(path).size).toBeGreaterThan(1000);
      expect(readFileSync(path).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    };

    // Overview: the URL without its credentials, the chart's y scale, the quarantine count.
    await page.goto(admin);
    const flaky = page.locator('article[data-destination="flaky"]');
    await expect.poll(() => flaky.locator('[data-breaker]').getAttribute('data-breaker'), { timeout: 20_000 }).toBe('open');
    const shownUrl = await flaky.locator('[data-url]').textContent();
    expect(shownUrl).toBe(`http://deliver:***@127.0.0.1:${flakySink.port}/hooks?token=***`);
    expect(await page.locator('main').textContent()).not.toContain('pa55word');
    expect(await page.locator('main').textContent()).not.toContain('tok-secret');
    expect(await page.locator('article[data-destination="later"] [data-url]').textContent()).toBe(laterSink.url);
    await expect.poll(() => flaky.locator('.y-tick').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const yLabels = await flaky.locator('.y-tick text').allTextContents();
    expect(yLabels[0]).toBe('0');
    expect(Number(yLabels[yLabels.length - 1])).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('#quarantine [role="alert"]').getAttribute('data-quarantined'), { timeout: 15_000 }).toBe('1');
    await screenshot('overview');

    // Events: each event's delivery status per destination.
    await page.goto(`${admin}#/events?q=run-detail-0`);
    const row = page.locator('tr[data-event]').first();
    await expect.poll(() => row.locator('li[data-destination="dying"]').getAttribute('data-status'), { timeout: 15_000 }).toBe('dead');
    expect(await row.locator('li[data-destination="later"]').getAttribute('data-status')).toBe('pending');
    expect(await row.locator('li[data-destination="flaky"]').getAttribute('data-status')).toMatch(/^(pending|in_flight)$/);
    await screenshot('events');

    // One event: why each delivery waits, the URL, the body as indented JSON shown as text.
    await row.locator('a[data-key^="event-"]').click();
    const section = (name: string) => page.locator(`section.delivery[data-destination="${name}"]`);
    const laterWait = section('later').locator('[data-wait]');
    await expect.poll(() => laterWait.getAttribute('data-wait'), { timeout: 15_000 }).toBe('next-attempt');
    expect(await laterWait.textContent()).toMatch(/^Next attempt at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \(in \d+ min; retry backoff\)\.$/);
    await expect.poll(() => section('flaky').locator('[data-wait]').getAttribute('data-wait'), { timeout: 15_000 }).toBe('breaker-open');
    expect(await section('flaky').locator('[data-wait]').textContent()).toContain('the circuit breaker of flaky is open');
    expect(await section('flaky').locator('[data-url]').textContent()).toBe(shownUrl);
    expect(await section('dying').locator('[data-wait]').count()).toBe(0);
    // The attempt's Error column does not repeat the status; the response column has the body.
    const dyingAttempt = section('dying').locator('tbody tr').first();
    expect(await dyingAttempt.locator('td').nth(4).textContent()).toBe('—');
    expect(await dyingAttempt.locator('td').nth(5).textContent()).toBe('{"error":"database is down"}');
    const shownBody = page.locator('pre[data-body]');
    expect(await shownBody.getAttribute('data-body')).toBe('json');
    expect(await shownBody.textContent()).toBe(JSON.stringify(JSON.parse(body), null, 2));
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(await page.locator('main img').count()).toBe(0);
    await screenshot('event');

    // Dead letters: the last error is what the destination answered, not the status again.
    await page.goto(`${admin}#/dead-letters?destination=dying`);
    const deadRow = page.locator('tr[data-delivery]').first();
    await expect.poll(() => deadRow.locator('[data-last-response]').textContent(), { timeout: 15_000 }).toBe('{"error":"database is down"}');
    expect(await deadRow.locator('td').nth(5).textContent()).toBe('500');
    await screenshot('dead-letters');

    expect(errors).toEqual([]);
  });
});
