import { pino } from 'pino';
import { resolveConfig } from '../../src/config/load.js';
import { createDispatcher, type Dispatcher } from '../../src/delivery/dispatcher.js';
import { createFakeBreaker, createFakeClock, createFakeSender, type FakeBreaker, type FakeClock, type FakeSender } from './fake-delivery.js';
import { createFakeStore, type FakeStore } from './fake-store.js';

export interface FakeDispatcher {
  dispatcher: Dispatcher;
  clock: FakeClock;
  fake: FakeStore;
  senders: Map<string, FakeSender>;
  breakers: Map<string, FakeBreaker>;
  /** Log lines written so far (parsed). */
  lines: { msg?: string; [key: string]: unknown }[];
}

/**
 * A dispatcher on fakes only (store, clock, sender, breaker): no process, socket or timer of
 * its own; time moves with clock.advance(). Jitter is fixed at its top (random ~1), so a
 * retry waits its whole backoff ceiling.
 */
export function createFakeDispatcher(destinations: Record<string, unknown>[], { pollIntervalMs = 250 } = {}): FakeDispatcher {
  const clock = createFakeClock();
  const fake = createFakeStore(clock.now);
  const senders = new Map<string, FakeSender>();
  const breakers = new Map<string, FakeBreaker>();
  const lines: FakeDispatcher['lines'] = [];
  const config = resolveConfig({
    sources: [{ name: 'test', path: '/webhooks/test', verify: { scheme: 'none' } }],
    destinations: destinations.map((destination) => ({ url: 'http://127.0.0.1:9/unused', ...destination })),
  });
  const dispatcher = createDispatcher({
    config,
    store: fake.store,
    logger: pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
    clock,
    pollIntervalMs,
    random: () => 0.999_999,
    owner: 'test-owner',
    createSender: (destination) => {
      const sender = createFakeSender(clock);
      senders.set(destination.name, sender);
      return sender;
    },
    createBreaker: (destination, _logger, _observer, onHalfOpen) => {
      const breaker = createFakeBreaker(onHalfOpen);
      breakers.set(destination.name, breaker);
      return breaker;
    },
  });
  return { dispatcher, clock, fake, senders, breakers, lines };
}
