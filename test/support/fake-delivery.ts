import type { DestinationConfig } from '../../src/config/load.js';
import { AttemptFailedError, BREAKER_OPEN_CODE, type Attempter, type DestinationBreaker } from '../../src/delivery/breakers.js';
import type { Clock } from '../../src/delivery/clock.js';
import type { BreakerState } from '../../src/delivery/observer.js';
import type { SendResult } from '../../src/delivery/outcome.js';
import type { Sender } from '../../src/delivery/send.js';
import type { ClaimedDelivery } from '../../src/glossary.js';

/** Lets promise callbacks and setImmediate work (the batcher) run: a few turns of the event loop. */
export async function settle(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
}

export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order, letting the work they start settle after each. */
  advance(ms: number): Promise<void>;
  /** Timers waiting. */
  pending(): number;
}

export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimer(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), callback });
      return () => timers.delete(id);
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        const [id, timer] = [...timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0] ?? [];
        if (id === undefined || !timer) break;
        timers.delete(id);
        now = Math.max(now, timer.at);
        timer.callback();
        await settle();
      }
      now = target;
      await settle();
    },
    pending: () => timers.size,
  };
}

export interface SentAttempt {
  delivery: ClaimedDelivery;
  number: number;
  at: number;
  /** Answers this attempt (held attempts only). */
  answer(result?: Partial<SendResult> & { status?: number }): void;
}

export interface FakeSender extends Sender {
  sent: SentAttempt[];
  /** Attempts wait for answer() instead of answering at once. */
  hold(): void;
  /** Every attempt (not held) answers with this status. */
  answerWith(status: number): void;
  closed: boolean;
}

export function createFakeSender(clock: Clock): FakeSender {
  let held = false;
  let status = 200;
  const sender: FakeSender = {
    sent: [],
    closed: false,
    hold: () => (held = true),
    answerWith: (next) => (status = next),
    send(delivery, number) {
      return new Promise<SendResult>((resolve) => {
        const answer = (result: { status?: number } = {}) => resolve({ kind: 'response', status: result.status ?? status, snippet: null, durationMs: 1 });
        sender.sent.push({ delivery, number, at: clock.now(), answer });
        if (!held) answer();
      });
    },
    async close() {
      sender.closed = true;
    },
  };
  return sender;
}

export interface FakeBreaker extends DestinationBreaker {
  open(): void;
  /** Half-open, and tells the dispatcher (as opossum's halfOpen event does). */
  halfOpen(): void;
  /** Attempts the breaker ran (not refused). */
  ran: number;
}

/** A breaker the test switches by hand; half-open lets one attempt through and closes on its success. */
export function createFakeBreaker(onHalfOpen: () => void): FakeBreaker {
  let state: BreakerState = 'closed';
  const breaker: FakeBreaker = {
    ran: 0,
    async run(attempt: Attempter) {
      if (state === 'open') throw Object.assign(new Error('Breaker is open'), { code: BREAKER_OPEN_CODE });
      breaker.ran++;
      const outcome = await attempt();
      if (outcome.verdict.outcome === 'failed') {
        if (state === 'half_open') state = 'open';
        throw new AttemptFailedError(outcome.result, outcome.verdict);
      }
      if (state === 'half_open') state = 'closed';
      return outcome;
    },
    capacity: () => (state === 'closed' ? Number.POSITIVE_INFINITY : state === 'half_open' ? 1 : 0),
    state: () => state,
    shutdown: () => undefined,
    open: () => (state = 'open'),
    halfOpen() {
      state = 'half_open';
      onHalfOpen();
    },
  };
  return breaker;
}

export type { DestinationConfig };
