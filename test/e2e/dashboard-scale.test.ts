import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { focusedText, openBrowser, type TestBrowser } from '../support/browser.js';
import { relayConfig, writeConfig } from '../support/relay.mjs';

const DEAD = 100_000;
const BATCH = 1000;

/** Fills a fresh database through the Store interface: DEAD events whose one delivery died. */
async function seedDeadLetters(path: string): Promise<void> {
  const store = await openSqlite({ path, busyTimeoutMs: 5000, lock: true, thread: 'inline' });
  try {
    for (let offset = 0; offset < DEAD; offset += BATCH) {
      await Promise.all(
        Array.from({ length: BATCH }, (_, index) => {
          const n = offset + index;
          return store.ingest({
            source: n % 2 === 0 ? 'cerebrium' : 'github',
            dedupeKey: `run-scale-${String(n).padStart(6, '0')}`,
            contentType: 'application/json',
            contentEncoding: null,
            body: Buffer.from(JSON.stringify({ run_id: `run-scale-${n}` })),
            destinations: ['app'],
          });
        }),
      );
    }
    for (;;) {
      const now = Date.now();
      const claimed = await store.claimDue({ destination: 'app', limit: BATCH, now, leaseExpiresAt: now + 60_000, owner: 'seed' });
      if (claimed.length === 0) break;
      await store.completeAttempts(
        claimed.map((delivery) => ({
          attempt: {
            deliveryId: delivery.id, number: 1, startedAt: now, durationMs: 3, statusCode: 500,
            errorCode: null, error: 'HTTP 500', responseSnippet: 'error', outcome: 'failed' as const,
          },
          decision: { kind: 'dead' as const },
          countsAgainstBudget: true,
        })),
        'seed',
      );
    }
  } finally {
    await store.close();
  }
}

describe('dashboard with 100,000 dead letters', () => {
  it('pages through them by cursor, filters by source, and counts all matching before a replay', { timeout: 240_000 }, async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir();
    await seedDeadLetters(join(dir, 'hookrelay.db'));
    const sink = await startSink(() => 500);
    const configPath = writeConfig(
      dir,
      relayConfig(dir, {
        admin: { host: '127.0.0.1', port: 0 },
        sources: [
          { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } },
          { name: 'github', path: '/webhooks/github', verify: { scheme: 'none' } },
        ],
        destinations: [{ name: 'app', url: sink.url }],
      }),
    );
    const relay = await startRelay(configPath, { timeoutMs: 60_000 });

    const browser: TestBrowser = await openBrowser();
    cleanup.add(() => browser.close());
    const { page } = browser;
    await page.goto(`http://127.0.0.1:${relay.adminPort}/#/dead-letters`);
    const keys = () => page.locator('tr[data-delivery] code').allTextContents();
    await expect.poll(() => page.locator('tr[data-delivery]').count(), { timeout: 30_000 }).toBe(50);
    expect(await page.locator('#nav-dead-count').textContent()).toBe('100,000');
    const first = await keys();
    expect(await page.locator('#dead-summary').textContent()).toContain('1–50');

    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => page.locator('#dead-summary').textContent(), { timeout: 30_000 }).toContain('51–100');
    const second = await keys();
    expect(second).toHaveLength(50);
    expect(second.filter((key) => first.includes(key))).toEqual([]);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => page.locator('#dead-summary').textContent(), { timeout: 30_000 }).toContain('1–50');
    expect(await keys()).toEqual(first);
    await browser.screenshot('dashboard-dead-letters-100k');

    await page.getByLabel('Source').selectOption('github');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await expect.poll(() => page.locator('tr[data-delivery] td:nth-child(4)').allTextContents(), { timeout: 30_000 }).toEqual(
      Array.from({ length: 50 }, () => 'github'),
    );

    // All matching, no filter: the dry run counts every one of them; Cancel sends nothing.
    await page.getByLabel('Source').selectOption('');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await expect.poll(() => page.locator('tr[data-delivery] td:nth-child(4)').allTextContents().then((cells) => new Set(cells).size), { timeout: 30_000 }).toBe(2);
    await page.getByRole('button', { name: 'Replay all matching filter' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.getByRole('heading').textContent(), { timeout: 30_000 }).toBe('Replay 100,000 dead deliveries?');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible(), { timeout: 15_000 }).toBe(false);
    expect(await focusedText(page)).toBe('Replay all matching filter');
    expect(sink.received).toHaveLength(0);

    // Events, newest first: "Older events" continues exactly where the page ended, although
    // the seed's group commits stored hundreds of events in the same millisecond.
    await page.goto(`http://127.0.0.1:${relay.adminPort}/#/events`);
    const eventKeys = () => page.locator('tr[data-event] code').allTextContents();
    await expect.poll(() => page.locator('tr[data-event]').count(), { timeout: 30_000 }).toBe(50);
    const expectedKeys = (from: number) => Array.from({ length: 50 }, (_, index) => `run-scale-${String(from - index).padStart(6, '0')}`);
    expect(await eventKeys()).toEqual(expectedKeys(DEAD - 1));
    await page.getByRole('link', { name: 'Older events' }).click();
    await expect.poll(eventKeys, { timeout: 30_000 }).toEqual(expectedKeys(DEAD - 51));
    await page.getByRole('link', { name: 'Older events' }).click();
    await expect.poll(eventKeys, { timeout: 30_000 }).toEqual(expectedKeys(DEAD - 101));
    await page.getByRole('link', { name: 'Newest events' }).click();
    await expect.poll(eventKeys, { timeout: 30_000 }).toEqual(expectedKeys(DEAD - 1));
  });
});
