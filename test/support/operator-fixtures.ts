import { join } from 'node:path';
import { resolveConfig, type Config } from '../../src/config/load.js';
import type { AttemptDecision } from '../../src/glossary.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from './temp.js';

/** A real SQLite store in a temp dir and a config with the given destinations (operator unit tests). */
export interface Fixture {
  config: Config;
  store: Store;
  dir: string;
  close(): Promise<void>;
}

export function operatorFixture(overrides: Record<string, unknown> = {}): Fixture {
  const dir = tempDir('hookrelay-operator-');
  const config = resolveConfig({
    storage: { sqlite: { path: join(dir.path, 'hookrelay.db') } },
    sources: [
      { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } },
      { name: 'github', path: '/webhooks/github', verify: { scheme: 'none' } },
    ],
    destinations: [
      { name: 'app', url: 'http://127.0.0.1:9/app' },
      { name: 'audit', url: 'http://127.0.0.1:9/audit', sources: ['cerebrium'] },
    ],
    ...overrides,
  });
  const store = openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 2000, lock: false, thread: 'inline' });
  return {
    config,
    store,
    dir: dir.path,
    close: async () => {
      await store.close();
      dir.cleanup();
    },
  };
}

/** Ingests one event fanned out to `destinations`; returns its id. */
export async function ingest(store: Store, runId: string, destinations: readonly string[] = ['app'], source = 'cerebrium'): Promise<string> {
  const result = await store.ingest({
    source,
    dedupeKey: runId,
    contentType: 'application/json',
    contentEncoding: null,
    body: Buffer.from(JSON.stringify({ run_id: runId })),
    destinations,
  });
  return result.id;
}

/**
 * Claims every due delivery of `destination` and records one attempt each with `outcome`
 * (a 200 when delivered, a 500 otherwise) and the decision. Returns the delivery ids.
 */
export async function attemptAll(
  store: Store,
  destination: string,
  decision: AttemptDecision,
  { now = Date.now() }: { now?: number } = {},
): Promise<string[]> {
  const owner = 'test-owner';
  const claimed = await store.claimDue({ destination, limit: 1000, now, leaseExpiresAt: now + 60_000, owner });
  const delivered = decision.kind === 'delivered';
  await store.completeAttempts(
    claimed.map((delivery) => ({
      attempt: {
        deliveryId: delivery.id,
        number: delivery.attempts + 1,
        startedAt: now,
        durationMs: 12,
        statusCode: delivered ? 200 : 500,
        errorCode: null,
        error: delivered ? null : 'HTTP 500',
        responseSnippet: delivered ? 'ok' : 'error',
        outcome: delivered ? 'delivered' : 'failed',
      },
      decision,
      countsAgainstBudget: true,
    })),
    owner,
  );
  return claimed.map((delivery) => delivery.id);
}
