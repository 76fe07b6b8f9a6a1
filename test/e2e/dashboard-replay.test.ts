import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { focusedText, isSameDocument, markDocument, openBrowser, type TestBrowser } from '../support/browser.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { type Sink } from '../support/sink.js';
import { waitFor } from '../support/wait.js';

const DEAD = 20;
/** Long, distinct run ids: the dead-letter list must show each one in full. */
const runId = (index: number) => `run-2f6c9d1e-84b7-4c1a-9e5d-${String(index).padStart(12, '0')}`;

interface Stats {
  events: number;
  deliveries: { pending: number; inFlight: number; delivered: number; dead: number };
  destinations: Record<string, { pending: number; inFlight: number; delivered: number; dead: number }>;
}

async function adminJson<T>(relay: RelayProcess, path: string): Promise<T> {
  const response = await request(`http://127.0.0.1:${relay.adminPort}${path}`);
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as T;
}

describe('dashboard in headless Chromium: find dead letters, replay them, watch counts change live', () => {
  it('shows 20 dead deliveries with their run ids, replays one, a selection and all matching, and they arrive', async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir();
    const failing: Sink = await startSink(() => 500);
    const healthy: Sink = await startSink(() => 200);
    const configPath = writeConfig(
      dir,
      relayConfig(dir, {
        admin: { host: '127.0.0.1', port: 0 },
        destinations: [
          // One attempt, and a breaker that never opens: each failure makes a dead letter at once.
          { name: 'app', url: failing.url, retry: { maxAttempts: 1 }, circuitBreaker: { volumeThreshold: 1000 } },
          { name: 'billing', url: healthy.url },
        ],
      }),
    );
    const relay = await startRelay(configPath);
    expect(relay.adminPort).toBeGreaterThan(0);

    for (let index = 0; index < DEAD; index += 1) {
      const body = JSON.stringify({ run_id: runId(index), status: 'succeeded' });
      const answer = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }));
      expect(answer.status).toBe(202);
    }
    await waitFor(async () => (await adminJson<Stats>(relay, '/admin/api/stats')).destinations.app!.dead === DEAD, {
      timeoutMs: 30_000,
      what: '20 dead deliveries to app',
    });
    await waitFor(() => healthy.received.length === DEAD, { timeoutMs: 30_000, what: '20 deliveries to billing' });

    const errors: string[] = [];
    const browser: TestBrowser = await openBrowser(errors);
    cleanup.add(() => browser.close());
    const { page } = browser;
    const dashboard = `http://127.0.0.1:${relay.adminPort}/`;

    // ---- Overview: per-destination counts, breaker state, chart ------------------------------
    await page.goto(dashboard);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toBe('Overview');
    const app = page.locator('article[data-destination="app"]');
    await expect.poll(() => app.locator('[data-count="dead"] dd').textContent(), { timeout: 15_000 }).toBe(String(DEAD));
    expect(await app.locator('[data-breaker]').getAttribute('data-breaker')).toBe('closed');
    const billing = page.locator('article[data-destination="billing"]');
    expect(await billing.locator('[data-count="delivered"] dd').textContent()).toBe(String(DEAD));
    expect(await app.getByRole('img').getAttribute('aria-label')).toBe('app: 0 delivered and 20 failed attempts in the last hour');
    expect(await page.locator('#nav-dead-count').textContent()).toBe(String(DEAD));
    await browser.screenshot('dashboard-overview');
    // Marks this document: if anything below reloaded the page, the mark would be gone.
    await markDocument(page);

    // ---- Events: search by run_id, open the event and its attempts --------------------------
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByLabel('Run ID or dedupe key').fill(runId(3));
    await page.getByRole('button', { name: 'Search' }).click();
    const eventLink = page.locator('tr[data-event] a');
    await expect.poll(() => eventLink.count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('tr[data-event] code').textContent()).toBe(runId(3));
    await browser.screenshot('dashboard-events');
    await eventLink.click();
    const appDelivery = page.locator('section.delivery', { has: page.getByRole('heading', { name: /^app/ }) });
    await expect.poll(() => appDelivery.locator('tbody tr').count(), { timeout: 15_000 }).toBe(1);
    const attemptCells = await appDelivery.locator('tbody tr td').allTextContents();
    expect(attemptCells[0]).toBe('1');
    expect(attemptCells[2]).toContain('500');
    expect(attemptCells[3]).toMatch(/^\d+ ms$/);
    expect(attemptCells[5]).toBe('error');
    expect(await appDelivery.getByRole('button', { name: /Replay/ }).count()).toBe(1);
    const billingDelivery = page.locator('section.delivery', { has: page.getByRole('heading', { name: /^billing/ }) });
    expect(await billingDelivery.locator('.badge').first().textContent()).toBe('delivered');
    expect(await page.locator('pre.body').textContent()).toContain(runId(3));
    await browser.screenshot('dashboard-event');

    // ---- Dead letters: every run id in full, a Replay button per row ------------------------
    await page.getByRole('link', { name: /Dead letters/ }).click();
    const rows = page.locator('tr[data-delivery]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(DEAD);
    const keys = await page.locator('tr[data-delivery] code').allTextContents();
    expect(keys.sort()).toEqual(Array.from({ length: DEAD }, (_, index) => runId(index)).sort());
    for (let index = 0; index < DEAD; index += 1) {
      expect(await page.getByRole('button', { name: `Replay ${runId(index)} to app` }).count()).toBe(1);
    }
    await browser.screenshot('dashboard-dead-letters');

    // The consumer is fixed; from now on every attempt is delivered.
    failing.behave(() => 200);
    const fixedAt = failing.received.length;
    const deliveredRunIds = () =>
      new Set(failing.received.slice(fixedAt).map((delivery) => (JSON.parse(delivery.body.toString()) as { run_id: string }).run_id));

    // One delivery, by keyboard: Enter on its Replay button, the dialog says 1, Tab to confirm.
    await page.getByRole('button', { name: `Replay ${runId(0)} to app` }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await dialog.getByRole('heading').textContent()).toBe('Replay 1 dead delivery?');
    expect(await focusedText(page)).toBe('Cancel');
    await browser.screenshot('dashboard-confirm-one');
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Replay 1 delivery');
    await page.keyboard.press('Enter');
    await waitFor(() => deliveredRunIds().has(runId(0)), { timeoutMs: 20_000, what: 'the replayed delivery at the sink' });
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(DEAD - 1);

    // A selection of two.
    await page.getByRole('checkbox', { name: `Select ${runId(1)} to app` }).check();
    await page.getByRole('checkbox', { name: `Select ${runId(2)} to app` }).check();
    await page.getByRole('button', { name: 'Replay selected (2)' }).click();
    expect(await dialog.getByRole('heading').textContent()).toBe('Replay 2 dead deliveries?');
    await dialog.getByRole('button', { name: 'Replay 2 deliveries' }).click();
    await waitFor(() => deliveredRunIds().has(runId(1)) && deliveredRunIds().has(runId(2)), {
      timeoutMs: 20_000,
      what: 'the selected deliveries at the sink',
    });

    // Everything matching the filter (destination app): the confirmation counts what is left.
    await page.getByLabel('Destination').selectOption('app');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(DEAD - 3);
    await page.getByRole('button', { name: 'Replay all matching filter' }).click();
    await expect.poll(() => dialog.getByRole('heading').textContent(), { timeout: 15_000 }).toBe(`Replay ${DEAD - 3} dead deliveries?`);
    expect(await dialog.textContent()).toContain(`${DEAD - 3} deliveries (every dead letter matching the filter)`);
    await browser.screenshot('dashboard-confirm-all');
    await dialog.getByRole('button', { name: `Replay ${DEAD - 3} deliveries` }).click();

    await waitFor(() => deliveredRunIds().size === DEAD, { timeoutMs: 30_000, what: 'all 20 run ids delivered at the fixed sink' });
    expect(failing.received.slice(fixedAt).every((delivery) => delivery.headers['webhook-id'])).toBe(true);

    // Counts and lists follow without a reload.
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => page.locator('#nav-dead-count').textContent(), { timeout: 15_000 }).toBe('');
    expect(await page.getByRole('status').textContent()).toMatch(/Replayed 17 deliveries/);
    await browser.screenshot('dashboard-dead-letters-after-replay');
    await page.getByRole('link', { name: 'Overview' }).click();
    await expect.poll(() => app.locator('[data-count="delivered"] dd').textContent(), { timeout: 15_000 }).toBe(String(DEAD));
    expect(await app.locator('[data-count="dead"] dd').textContent()).toBe('0');

    // A new callback shows up on the open overview by itself.
    const live = await post(
      `${relay.url}/webhooks/cerebrium`,
      cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: 'run-live-update' }) }),
    );
    expect(live.status).toBe(202);
    await expect.poll(() => page.locator('.total-events dd').textContent(), { timeout: 15_000 }).toBe(String(DEAD + 1));
    await expect.poll(() => app.locator('[data-count="delivered"] dd').textContent(), { timeout: 15_000 }).toBe(String(DEAD + 1));
    expect(await isSameDocument(page)).toBe(true);
    await browser.screenshot('dashboard-overview-after-replay');

    const stats = await adminJson<Stats>(relay, '/admin/api/stats');
    expect(stats.destinations.app).toMatchObject({ delivered: DEAD + 1, dead: 0 });
    expect(errors).toEqual([]);
  });
});
