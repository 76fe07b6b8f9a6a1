import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it, type HarnessFixtures } from '../support/fixtures.js';
import { openBrowser, scriptVisibleCookies, type TestBrowser } from '../support/browser.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import type { Sink } from '../support/sink.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'dashboard-admin-token-5b1f0c';
const RUN_ID = 'run-visible-only-with-the-token-7d2e';

interface Fetched {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

async function fetchAdmin(relay: RelayProcess, path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}): Promise<Fetched> {
  const response = await request(`http://127.0.0.1:${relay.adminPort}${path}`, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  return { status: response.statusCode, text: await response.body.text(), headers: response.headers };
}

const bearer = { authorization: `Bearer ${TOKEN}` };

async function deadCount(relay: RelayProcess): Promise<number> {
  const stats = await fetchAdmin(relay, '/admin/api/stats', { headers: bearer });
  expect(stats.status).toBe(200);
  return (JSON.parse(stats.text) as { deliveries: { dead: number } }).deliveries.dead;
}

describe('dashboard with admin.token: nothing without the token', () => {
  async function relayWithOneDeadLetter({ tempDir, startSink, startRelay }: Pick<HarnessFixtures, 'tempDir' | 'startSink' | 'startRelay'>): Promise<{ relay: RelayProcess; sink: Sink }> {
    const dir = tempDir();
    const sink = await startSink(() => 500);
    const configPath = writeConfig(
      dir,
      relayConfig(dir, {
        admin: { host: '127.0.0.1', port: 0, token: TOKEN },
        destinations: [{ name: 'app', url: sink.url, retry: { maxAttempts: 1 } }],
      }),
    );
    const relay = await startRelay(configPath);
    const answer = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: RUN_ID }) }));
    expect(answer.status).toBe(202);
    await waitFor(async () => (await deadCount(relay)) === 1, { timeoutMs: 20_000, what: 'the dead letter' });
    return { relay, sink };
  }

  it('shows a token form, rejects a wrong token, and sets an HttpOnly SameSite=Strict session for the right one', async ({ cleanup, tempDir, startSink, startRelay }) => {
    const { relay } = await relayWithOneDeadLetter({ tempDir, startSink, startRelay });

    // Without the token: a form, no data; the API refuses.
    const home = await fetchAdmin(relay, '/');
    expect(home.status).toBe(401);
    expect(home.text).toContain('Admin token');
    expect(home.text).not.toContain(RUN_ID);
    for (const path of ['/admin/api/deliveries?status=dead', '/admin/api/events', '/admin/api/stats', '/admin/api/dashboard/meta', '/admin/api/dashboard/attempt-history']) {
      const refused = await fetchAdmin(relay, path, { headers: { 'x-hookrelay-dashboard': '1' } });
      expect(refused.status, path).toBe(401);
      expect(refused.text).not.toContain(RUN_ID);
    }
    const wrong = await fetchAdmin(relay, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'not-the-token' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    // A form post (what a page on another site can send) is refused whatever the token.
    const formPost = await fetchAdmin(relay, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}`,
    });
    expect(formPost.status).toBe(415);
    expect(formPost.headers['set-cookie']).toBeUndefined();

    const errors: string[] = [];
    const browser: TestBrowser = await openBrowser(errors);
    cleanup.add(() => browser.close());
    const { page, context } = browser;
    const dashboard = `http://127.0.0.1:${relay.adminPort}/`;

    await page.goto(dashboard);
    const tokenField = page.getByLabel('Admin token');
    expect(await tokenField.getAttribute('id')).toBe(await page.evaluate('document.activeElement.id'));
    expect(await page.content()).not.toContain(RUN_ID);
    await browser.screenshot('dashboard-sign-in');

    await tokenField.fill('wrong-token');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 }).toContain('not the admin token');
    expect(await page.content()).not.toContain(RUN_ID);
    expect(await context.cookies()).toEqual([]);
    await browser.screenshot('dashboard-sign-in-wrong-token');

    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toBe('Overview');
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'hookrelay_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookies[0]!.value).not.toContain(TOKEN);
    expect(await scriptVisibleCookies(page)).toBe('');

    await page.getByRole('link', { name: /Dead letters/ }).click();
    await expect.poll(() => page.locator('tr[data-delivery] code').allTextContents(), { timeout: 15_000 }).toEqual([RUN_ID]);
    expect(await page.getByRole('button', { name: `Replay ${RUN_ID} to app` }).count()).toBe(1);
    await browser.screenshot('dashboard-dead-letters-signed-in');

    // The session cookie alone is not a credential: the API also wants the dashboard's header,
    // and a same-origin request. A bearer token still works on its own.
    const session = `hookrelay_session=${cookies[0]!.value}`;
    const replayAll = JSON.stringify({ all: true });
    const cookieOnly = await fetchAdmin(relay, '/admin/api/replay', { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: replayAll });
    expect(cookieOnly.status).toBe(401);
    const crossOrigin = await fetchAdmin(relay, '/admin/api/replay', {
      method: 'POST',
      headers: { cookie: session, 'x-hookrelay-dashboard': '1', origin: 'http://evil.example', 'content-type': 'application/json' },
      body: replayAll,
    });
    expect(crossOrigin.status).toBe(403);
    expect(JSON.parse(crossOrigin.text)).toMatchObject({ error: { code: 'HOOKRELAY_ORIGIN_NOT_ALLOWED' } });
    const forged = await fetchAdmin(relay, '/admin/api/stats', {
      headers: { cookie: `hookrelay_session=v1.${Date.now() + 60_000}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, 'x-hookrelay-dashboard': '1' },
    });
    expect(forged.status).toBe(401);
    expect(await deadCount(relay)).toBe(1);
    const sameOrigin = await fetchAdmin(relay, '/admin/api/stats', {
      headers: { cookie: session, 'x-hookrelay-dashboard': '1', origin: `http://127.0.0.1:${relay.adminPort}` },
    });
    expect(sameOrigin.status).toBe(200);

    // Signing out clears the session: the form is back and no data is shown.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByLabel('Admin token').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.content()).not.toContain(RUN_ID);
    expect(await context.cookies()).toEqual([]);
    expect(errors.filter((error) => !error.includes('401'))).toEqual([]);
  });

  it('a page on another origin cannot replay with the signed-in browser (CSRF)', async ({ cleanup, tempDir, startSink, startRelay }) => {
    const { relay, sink } = await relayWithOneDeadLetter({ tempDir, startSink, startRelay });
    sink.behave(() => 200);
    const received = sink.received.length;

    // A hostile page on another port of the same host: same-site, so SameSite=Strict alone
    // would let the cookie through; the dashboard header and origin checks must stop it.
    const adminOrigin = `http://127.0.0.1:${relay.adminPort}`;
    const hostile: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><html><body>
<form id="f" method="post" action="${adminOrigin}/admin/api/replay" enctype="text/plain">
<input name='{"all":true,"x":"' value='"}'></form>
<script>
fetch('${adminOrigin}/admin/api/replay', { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{"all":true}' })
  .finally(() => { document.title = 'fetched'; document.getElementById('f').submit(); });
</script></body></html>`);
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => hostile.close(() => resolve())));
    const hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`;

    const browser: TestBrowser = await openBrowser();
    cleanup.add(() => browser.close());
    const { page } = browser;
    await page.goto(`${adminOrigin}/`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toBe('Overview');

    await page.goto(hostileUrl);
    // The form post lands on the admin listener, which refuses it: its Origin is not the listener's.
    await page.waitForURL(`${adminOrigin}/admin/api/replay`, { timeout: 15_000 });
    expect(await page.content()).toContain('HOOKRELAY_ORIGIN_NOT_ALLOWED');

    expect(await deadCount(relay)).toBe(1);
    expect(sink.received.length).toBe(received);
  });
});
