import { afterEach, describe, it } from 'vitest';
import { testSchema } from '../support/postgres.js';
import { cleanups } from '../support/delivery.js';
import { idleRelayScenario } from '../support/idle-scenario.js';

const registry = cleanups();
afterEach(() => registry.run());

describe('delivery: an idle relay on PostgreSQL', () => {
  it('with several destinations and nothing pending begins no write transaction, poll after poll', async () => {
    const database = testSchema('e2e_idle');
    registry.add(() => database.drop());
    await idleRelayScenario(registry, { storage: { postgres: { url: database.url, schema: database.schema, poolSize: 4 } } });
  });
});
