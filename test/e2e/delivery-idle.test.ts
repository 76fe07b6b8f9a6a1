import { afterEach, describe, it } from 'vitest';
import { cleanups } from '../support/delivery.js';
import { idleRelayScenario } from '../support/idle-scenario.js';

const registry = cleanups();
afterEach(() => registry.run());

describe('delivery: an idle relay on SQLite', () => {
  it('with several destinations and nothing pending begins no write transaction, poll after poll', async () => {
    await idleRelayScenario(registry, {});
  });
});
