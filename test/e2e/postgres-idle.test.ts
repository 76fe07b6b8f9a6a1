import { describe } from 'vitest';
import { it } from '../support/fixtures.js';
import { idleRelayScenario } from '../support/idle-scenario.js';

describe('delivery: an idle relay on PostgreSQL', () => {
  it('with several destinations and nothing pending begins no write transaction, poll after poll', async ({ cleanup, startSink, startRelay, postgres }) => {
    await idleRelayScenario({ cleanup, startSink, startRelay }, { storage: { postgres: { url: postgres.url, schema: postgres.schema, poolSize: 4 } } });
  });
});
