import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { COMPLETION_RETRY_MS, createAttemptRecorder } from '../../src/delivery/attempt-recorder.js';
import type { AttemptCompletion } from '../../src/glossary.js';
import { createFakeClock, settle } from '../support/fake-delivery.js';
import { createFakeDispatcher } from '../support/fake-dispatcher.js';
import { createFakeStore } from '../support/fake-store.js';

function delivered(deliveryId: string): AttemptCompletion {
  return {
    attempt: { deliveryId, number: 1, startedAt: 0, durationMs: 1, statusCode: 200, errorCode: null, error: null, responseSnippet: null, outcome: 'delivered' },
    decision: { kind: 'delivered' },
    countsAgainstBudget: true,
  };
}

function recorderOnFakes() {
  const clock = createFakeClock();
  const fake = createFakeStore(clock.now);
  const lines: { msg?: string; failures?: number }[] = [];
  const committed: string[][] = [];
  const recorder = createAttemptRecorder({
    store: fake.store,
    owner: 'test-owner',
    logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
    clock,
    recorded: (_fallbacks, destinations) => committed.push([...destinations]),
  });
  /** A row claimed by test-owner, as the lane would hold it before recording its result. */
  const claimed = (destination: string) => {
    const row = fake.add(destination);
    Object.assign(row, { status: 'in_flight', leaseOwner: 'test-owner', nextAttemptAt: clock.now() + 60_000 });
    return row;
  };
  return { clock, fake, lines, committed, recorder, claimed };
}

describe('attempt recorder', () => {
  it('results recorded in one turn share one commit; they count as recording until it returns', async () => {
    const { fake, committed, recorder, claimed } = recorderOnFakes();
    const a = claimed('a');
    const b = claimed('b');
    recorder.record('a', delivered(a.id));
    recorder.record('b', delivered(b.id));
    expect([...recorder.recording()]).toEqual([a.id, b.id]);
    await recorder.drain();
    expect(fake.calls).toEqual(['completeAttempts']);
    expect(committed).toEqual([['a', 'b']]);
    expect([...recorder.recording()]).toEqual([]);
    expect([fake.statusOf(a.id), fake.statusOf(b.id)]).toEqual(['delivered', 'delivered']);
  });

  it('a commit refused by storage is retried every 200 ms, logged once, and still counts as recording', async () => {
    const { clock, fake, lines, recorder, claimed } = recorderOnFakes();
    const row = claimed('a');
    fake.fail('completeAttempts', 3);
    recorder.record('a', delivered(row.id));
    await settle();
    expect(fake.calls).toEqual(['completeAttempts']);
    expect([...recorder.recording()]).toEqual([row.id]);
    await clock.advance(COMPLETION_RETRY_MS - 1);
    expect(fake.calls).toHaveLength(1);
    await clock.advance(1);
    expect(fake.calls).toHaveLength(2);
    await clock.advance(2 * COMPLETION_RETRY_MS);
    await recorder.drain();
    expect(fake.calls).toEqual(['completeAttempts', 'completeAttempts', 'completeAttempts', 'completeAttempts']);
    expect(fake.statusOf(row.id)).toBe('delivered');
    expect(lines.filter((line) => line.msg === 'could not record attempts yet; retrying')).toEqual([expect.objectContaining({ failures: 1 })]);
  });

  it('after release: a failing commit is tried once more at once, then given up; new results are dropped', async () => {
    const { fake, lines, recorder, claimed } = recorderOnFakes();
    const row = claimed('a');
    fake.fail('completeAttempts', 10);
    recorder.record('a', delivered(row.id));
    await settle();
    recorder.release();
    await recorder.drain();
    expect(fake.calls).toEqual(['completeAttempts', 'completeAttempts']);
    expect(lines.some((line) => line.msg === 'could not record attempts')).toBe(true);
    recorder.record('a', delivered(claimed('a').id));
    await recorder.drain();
    expect(fake.calls).toHaveLength(2);
  });

  it('in the dispatcher: an attempt whose result cannot be written yet is not sent again', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher([{ name: 'a' }]);
    const row = fake.add('a');
    fake.fail('completeAttempts', 5);
    await dispatcher.start();
    await clock.advance(5_000);
    expect(senders.get('a')!.sent).toHaveLength(1);
    expect(fake.calls.filter((call) => call === 'completeAttempts')).toHaveLength(6);
    expect(fake.statusOf(row.id)).toBe('delivered');
    await dispatcher.stop(0);
  });
});
