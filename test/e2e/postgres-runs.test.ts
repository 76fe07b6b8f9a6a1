import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { startFakeCerebrium } from '../support/fake-cerebrium.js';
import { testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { startRunsRelay, tenRunsScenario } from '../support/runs-scenario.js';

describe('run tracking end to end on PostgreSQL, two relays sharing the schema', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('10 runs: 8 completed with metadata echoed, 2 lost, each announced once though both relays check runs', async () => {
    const dir = tempDir('hookrelay-pg-runs-');
    cleanups.push(dir.cleanup);
    const database = testSchema('e2e_runs');
    cleanups.push(() => database.drop());
    const cerebrium = await startFakeCerebrium((_, index) => (index >= 8 ? { callbackAfterMs: null, status: 'failed' } : { callbackAfterMs: 100 + index * 20 }));
    cleanups.push(() => cerebrium.close());
    const storage = { postgres: { url: database.url, schema: database.schema, poolSize: 4 } };
    const first = await startRunsRelay({ dir: join(dir.path, 'a'), storage, cerebrium });
    cleanups.push(() => first.cleanup());
    // A second process on the same schema: its checker sweeps the same runs at the same time.
    const second = await startRunsRelay({ dir: join(dir.path, 'b'), storage, cerebrium, sinks: { app: first.app, pager: first.pager } });
    cleanups.push(() => second.cleanup());
    await tenRunsScenario(first);
  });
});
