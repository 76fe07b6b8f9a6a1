import { join } from 'node:path';
import { describe } from 'vitest';
import { it } from '../support/fixtures.js';
import { startFakeCerebrium } from '../support/fake-cerebrium.js';
import { startRunsRelay, tenRunsScenario } from '../support/runs-scenario.js';

describe('run tracking end to end on PostgreSQL, two relays sharing the schema', () => {
  it('10 runs: 8 completed with metadata echoed, 2 lost, each announced once though both relays check runs', async ({ cleanup, tempDir, postgres }) => {
    const dir = tempDir('hookrelay-pg-runs-');
    const database = postgres;
    const cerebrium = await startFakeCerebrium((_, index) => (index >= 8 ? { callbackAfterMs: null, status: 'failed' } : { callbackAfterMs: 100 + index * 20 }));
    cleanup.add(() => cerebrium.close());
    const storage = { postgres: { url: database.url, schema: database.schema, poolSize: 4 } };
    const first = await startRunsRelay({ dir: join(dir, 'a'), storage, cerebrium });
    cleanup.add(() => first.cleanup());
    // A second process on the same schema: its checker sweeps the same runs at the same time.
    const second = await startRunsRelay({ dir: join(dir, 'b'), storage, cerebrium, sinks: { app: first.app, pager: first.pager } });
    cleanup.add(() => second.cleanup());
    await tenRunsScenario(first);
  });
});
