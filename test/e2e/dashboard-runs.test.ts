import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { isSameDocument, markDocument, openBrowser } from '../support/browser.js';
import { startFakeCerebrium } from '../support/fake-cerebrium.js';
import { post } from '../support/post.js';
import { TEST_SECRET } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { ADMIN_TOKEN, call, startRunsRelay } from '../support/runs-scenario.js';

describe('dashboard Runs view', () => {
  it('shows counts per status, the completion rate, processing times and the overdue runs with their metadata, live and filterable', async ({ cleanup, tempDir }) => {
    const dir = tempDir('hookrelay-dashboard-runs-');
    const cerebrium = await startFakeCerebrium();
    cleanup.add(() => cerebrium.close());
    const relay = await startRunsRelay({
      dir: dir,
      storage: { sqlite: { path: join(dir, 'hookrelay.db') } },
      cerebrium,
      runs: { status: undefined, overdueAfterMs: 2_000 },
    });
    cleanup.add(() => relay.cleanup());
    const register = (runId: string, app: string, metadata: Record<string, unknown>) =>
      call(`${relay.admin}/admin/api/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ runId, app, metadata }),
      });
    expect((await register('run-done', 'ocr', { doc: 'a' })).status).toBe(201);
    expect((await register('run-missing', 'ocr', { doc: 'invoice-77' })).status).toBe(201);
    expect((await register('run-other-app', 'translate', { doc: 'b' })).status).toBe(201);
    const callback = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: 'run-done', status: 'success' }) });
    expect((await post(`${relay.relay.url}/webhooks/cerebrium`, callback)).status).toBe(202);

    const errors: string[] = [];
    const browser = await openBrowser(errors);
    cleanup.add(() => browser.close());
    const { page } = browser;
    await page.goto(`${relay.admin}/`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The token form itself is answered 401; from here on the page must run cleanly.
    await page.getByRole('link', { name: 'Runs' }).waitFor();
    errors.length = 0;
    await page.getByRole('link', { name: 'Runs' }).click();
    await expect.poll(() => page.locator('[data-run-count="completed"] dd').textContent(), { timeout: 15_000 }).toBe('1');
    await markDocument(page);

    // Overdue after 2 s, without a reload.
    await expect.poll(() => page.locator('[data-run-count="overdue"] dd').textContent(), { timeout: 15_000 }).toBe('2');
    expect(await page.locator('[data-run-count="submitted"] dd').textContent()).toBe('0');
    expect(await page.locator('#run-completion').textContent()).toContain('33.3 %');
    expect(await page.locator('#run-chart svg').getAttribute('aria-label')).toMatch(/^1 run completed in the last hour; slowest 95th percentile/);
    const row = page.locator('tr[data-run="run-missing"]');
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await row.textContent()).toContain('{"doc":"invoice-77"}');
    expect(await row.textContent()).toContain('overdue');
    expect(await page.locator('tr[data-run="run-done"]').count()).toBe(0);

    await page.locator('#filter-run-app').fill('translate');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.locator('tr[data-run]').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('tr[data-run="run-other-app"]').count()).toBe(1);
    expect(await isSameDocument(page)).toBe(true);
    await browser.screenshot('dashboard-runs');
    expect(errors).toEqual([]);
  });
});
