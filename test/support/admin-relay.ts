import { Agent, request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import { createApiRouter } from '../../src/admin/api-routes.js';
import { createDashboard } from '../../src/admin/dashboard/dashboard.js';
import { resolveConfig } from '../../src/config/load.js';
import type { Store } from '../../src/store/store.js';
import { runCli } from './cli.mjs';
import type { Cleanup } from './fixtures.js';
import { post } from './post.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from './relay.mjs';
import { cerebriumRequest } from './signed-request.js';
import { startSink, type Sink } from './sink.js';
import { tempDir } from './temp.js';
import { waitFor } from './wait.js';

/** In the one event's body and dedupe key: an answer containing either leaked event data. */
export const RUN_ID = 'run-only-with-credentials-3f9c1a';
export const BODY_MARKER = 'body-marker-only-with-credentials-8e2d';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request with the request-target sent exactly as given (`//admin`, `/%61dmin`, `/./`):
 * node:http does not normalise the path the way a WHATWG URL would.
 */
export function rawRequest(
  port: number,
  { method = 'GET', path, headers = {}, body }: { method?: string; path: string; headers?: Record<string, string>; body?: string },
  agent?: Agent,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // An explicit length: node:http sends a DELETE's or OPTIONS's body without one otherwise.
    const sized = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: sized, agent, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface AdminRoute {
  method: string;
  path: string;
}

/**
 * Every route the admin listener serves, read from the real routers (the JSON API and the
 * dashboard's pages and API), with `:id` left in place.
 */
export function adminRoutes(): AdminRoute[] {
  const config = resolveConfig({
    storage: { sqlite: { path: '/nonexistent/routes-only.db' } },
    sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } }],
    admin: { port: 0, token: 'routes-only' },
  });
  // Building the routers reads nothing from the store; the routes are only listed here.
  const operator = { config, store: {} as Store };
  const routers = [createApiRouter({ operator }), ...createDashboard({ operator }).routers];
  return routers.flatMap((router) =>
    router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => ({ method, path: String(layer.path) }))),
  );
}

export interface AdminRelay {
  relay: RelayProcess;
  configPath: string;
  sink: Sink;
  port: number;
  eventId: string;
  deliveryId: string;
}

/**
 * `serve` with the admin listener (`admin` settings merged in) and one dead delivery whose
 * event carries RUN_ID and BODY_MARKER. Its teardown is added to `cleanup`.
 */
export async function startAdminRelay(cleanup: Cleanup, admin: Record<string, unknown>, bearer?: string): Promise<AdminRelay> {
  const dir = tempDir('hookrelay-admin-');
  cleanup.add(dir.cleanup);
  const sink = await startSink(() => 500);
  cleanup.add(() => sink.close());
  const configPath = writeConfig(
    dir.path,
    relayConfig(dir.path, {
      admin: { host: '127.0.0.1', port: 0, ...admin },
      destinations: [{ name: 'app', url: sink.url, retry: { maxAttempts: 1 } }],
    }),
  );
  const relay = await startRelay(configPath);
  cleanup.add(() => relay.kill());
  const answer = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: RUN_ID, note: BODY_MARKER }) }));
  expect(answer.status).toBe(202);
  const dead = await waitFor(async () => (await deadLetters(configPath))[0], { timeoutMs: 20_000, what: 'the dead letter' });
  const port = relay.adminPort!;
  // The data is there for whoever has the credentials (so its absence elsewhere means something).
  const authorised = await rawRequest(port, { path: `/admin/api/events/${dead.eventId}`, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  expect(authorised.status).toBe(200);
  expect(authorised.text).toContain(RUN_ID);
  expect(authorised.text).toContain(BODY_MARKER);
  return { relay, configPath, sink, port, eventId: dead.eventId, deliveryId: dead.id };
}

export interface DeadLetter {
  id: string;
  eventId: string;
  attempts: number;
}

/** The dead letters as the CLI lists them (the same database, read while serve runs). */
export async function deadLetters(configPath: string): Promise<DeadLetter[]> {
  const result = await runCli(['dlq', 'list', '--json', '--config', configPath]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as DeadLetter);
}

/** True when an answer carries anything of the stored event. */
export function leaksEventData(answer: RawAnswer): boolean {
  return answer.text.includes(RUN_ID) || answer.text.includes(BODY_MARKER);
}
