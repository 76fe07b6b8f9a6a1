import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { isSameDocument, markDocument, openBrowser, type TestBrowser } from '../support/browser.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';

describe('dashboard overview: circuit breaker and counts, live', () => {
  it('shows a failing destination circuit opening and its deliveries waiting, without a reload', async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir();
    const down = await startSink(() => 503);
    const up = await startSink(() => 200);
    const configPath = writeConfig(
      dir,
      relayConfig(dir, {
        admin: { host: '127.0.0.1', port: 0 },
        destinations: [
          {
            name: 'flaky',
            url: down.url,
            concurrency: 1,
            retry: { maxAttempts: 12, initialDelayMs: 200 },
            circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 600_000 },
          },
          { name: 'steady', url: up.url },
        ],
      }),
    );
    const relay = await startRelay(configPath);

    const errors: string[] = [];
    const browser: TestBrowser = await openBrowser(errors);
    cleanup.add(() => browser.close());
    const { page } = browser;
    await page.goto(`http://127.0.0.1:${relay.adminPort}/`);
    const flaky = page.locator('article[data-destination="flaky"]');
    const steady = page.locator('article[data-destination="steady"]');
    await expect.poll(() => flaky.locator('[data-breaker]').getAttribute('data-breaker'), { timeout: 15_000 }).toBe('closed');
    expect(await page.locator('.total-events dd').textContent()).toBe('0');
    await markDocument(page);

    for (let index = 0; index < 6; index += 1) {
      const answer = await post(
        `${relay.url}/webhooks/cerebrium`,
        cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `run-breaker-${index}` }) }),
      );
      expect(answer.status).toBe(202);
    }

    await expect.poll(() => flaky.locator('[data-breaker]').getAttribute('data-breaker'), { timeout: 20_000 }).toBe('open');
    expect(await flaky.locator('[data-breaker]').textContent()).toBe('circuit open');
    await expect.poll(() => page.locator('.total-events dd').textContent(), { timeout: 15_000 }).toBe('6');
    await expect.poll(() => steady.locator('[data-count="delivered"] dd').textContent(), { timeout: 15_000 }).toBe('6');
    // While open, nothing is attempted: the deliveries wait as pending, none dead.
    await expect.poll(async () => Number(await flaky.locator('[data-count="pending"] dd').textContent()), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await flaky.locator('[data-count="dead"] dd').textContent()).toBe('0');
    expect(await flaky.getByRole('img').getAttribute('aria-label')).toMatch(/^flaky: 0 delivered and [1-9]\d* failed attempts in the last hour$/);
    expect(await isSameDocument(page)).toBe(true);
    await browser.screenshot('dashboard-overview-breaker-open');
    expect(errors).toEqual([]);
  });
});
