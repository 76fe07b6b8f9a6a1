import { describe, expect, it } from 'vitest';
import { createFakeDispatcher } from '../support/fake-dispatcher.js';

describe('dispatcher shutdown on fakes', () => {
  it('attempts that finish within the grace are recorded first; the rest are released: cut short attempted, queued not', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher([{ name: 'a', concurrency: 2 }]);
    const [finishes, cutShort, queued1, queued2] = [fake.add('a'), fake.add('a'), fake.add('a'), fake.add('a')];
    const sender = senders.get('a')!;
    sender.hold();
    await dispatcher.start();
    await clock.advance(0);
    expect(sender.sent.map((attempt) => attempt.delivery.id)).toEqual([finishes!.id, cutShort!.id]);

    let stopped = false;
    const stopping = dispatcher.stop(1_000).then(() => (stopped = true));
    await clock.advance(300);
    sender.sent[0]!.answer({ status: 200 });
    await clock.advance(699);
    expect(stopped).toBe(false);
    expect(sender.sent).toHaveLength(2);
    await clock.advance(1);
    await stopping;

    expect(fake.statusOf(finishes!.id)).toBe('delivered');
    expect(fake.rows.get(cutShort!.id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(fake.rows.get(queued1!.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(fake.rows.get(queued2!.id)).toMatchObject({ status: 'pending', attempts: 0 });
    const tail = fake.calls.filter((call) => call !== 'nextDueAt').slice(-3);
    expect(tail).toEqual(['completeAttempts', 'releaseClaims', 'releaseClaims']);
    expect(sender.closed).toBe(true);
    // A late answer after the grace changes nothing.
    sender.sent[1]!.answer({ status: 200 });
    await clock.advance(1_000);
    expect(fake.rows.get(cutShort!.id)).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('when every attempt finishes within the grace, stop returns without waiting for it and releases nothing attempted', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher([{ name: 'a', concurrency: 1 }]);
    const rows = [fake.add('a'), fake.add('a')];
    const sender = senders.get('a')!;
    sender.hold();
    await dispatcher.start();
    await clock.advance(0);
    const stoppedAt = clock.now();
    const stopping = dispatcher.stop(30_000);
    sender.sent[0]!.answer({ status: 200 });
    await clock.advance(0);
    await stopping;
    expect(clock.now()).toBe(stoppedAt);
    expect(rows.map((row) => [fake.statusOf(row.id), row.attempts])).toEqual([['delivered', 1], ['pending', 0]]);
    expect(sender.sent).toHaveLength(1);
  });

  it('a claim running when stop begins finishes and hands its rows back unsent', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher([{ name: 'a' }]);
    await dispatcher.start();
    const row = fake.add('a');
    // The claim starts on the wake-up and is still running when stop() begins (same turn).
    dispatcher.wake(['a']);
    const stopping = dispatcher.stop(1_000);
    await clock.advance(0);
    await stopping;
    expect(senders.get('a')!.sent).toHaveLength(0);
    expect(fake.rows.get(row.id)).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
