import { describe, expect, it } from 'vitest';
import { createFakeDispatcher } from '../support/fake-dispatcher.js';

/** Milliseconds-fast: fake store, fake clock, fake sender and breaker (test/support/fake-*.ts). */
describe('dispatcher lanes on fakes', () => {
  it('an idle relay only reads: no claim, no write transaction, while nothing is due', async () => {
    const { dispatcher, clock, fake } = createFakeDispatcher([{ name: 'a' }, { name: 'b' }, { name: 'c', ordering: 'fifo' }]);
    await dispatcher.start();
    const afterStart = fake.writes();
    await clock.advance(10_000);
    expect(fake.calls.filter((call) => call === 'nextDueAt').length).toBeGreaterThanOrEqual(40);
    expect(fake.calls.filter((call) => call !== 'nextDueAt' && call !== 'recoverOrphanedLeases')).toEqual([]);
    expect(fake.writes()).toBe(afterStart);
    await dispatcher.stop(0);
  });

  it('a delivery committed later is claimed on the next probe, or at once when woken', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher([{ name: 'a' }]);
    await dispatcher.start();
    fake.add('a');
    await clock.advance(250);
    expect(senders.get('a')!.sent).toHaveLength(1);
    fake.add('a');
    dispatcher.wake(['a']);
    await clock.advance(0);
    expect(senders.get('a')!.sent).toHaveLength(2);
    await dispatcher.stop(0);
  });

  it('retries are claimed when they come due, on the backoff schedule (a timer, not the next poll)', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher(
      [{ name: 'a', retry: { maxAttempts: 3, initialDelayMs: 1_000, multiplier: 3 } }],
      { pollIntervalMs: 700 },
    );
    const row = fake.add('a');
    const t0 = clock.now();
    const sender = senders.get('a')!;
    sender.answerWith(503);
    await dispatcher.start();
    await clock.advance(0);
    expect(sender.sent.map((attempt) => attempt.at - t0)).toEqual([0]);
    await clock.advance(999);
    expect(sender.sent).toHaveLength(1);
    await clock.advance(1);
    expect(sender.sent.map((attempt) => attempt.at - t0)).toEqual([0, 1_000]);
    await clock.advance(5_000);
    // 1 s, then 3 s (jitter at its top): the third attempt at 4 s, not at a poll tick (700 ms apart).
    expect(sender.sent.map((attempt) => [attempt.number, attempt.at - t0])).toEqual([[1, 0], [2, 1_000], [3, 4_000]]);
    expect(fake.statusOf(row.id)).toBe('dead');
    await dispatcher.stop(0);
  });

  it('breaker open: queued deliveries go back unsent; half-open: one probe, nothing queued behind it; closed: the rest', async () => {
    const { dispatcher, clock, fake, senders, breakers } = createFakeDispatcher([{ name: 'a', concurrency: 1 }]);
    const rows = [fake.add('a'), fake.add('a'), fake.add('a')];
    const sender = senders.get('a')!;
    const breaker = breakers.get('a')!;
    sender.hold();
    await dispatcher.start();
    await clock.advance(0);
    expect(sender.sent.map((attempt) => attempt.delivery.id)).toEqual([rows[0]!.id]);
    expect(rows.map((row) => fake.statusOf(row.id))).toEqual(['in_flight', 'in_flight', 'in_flight']);

    breaker.open();
    sender.sent[0]!.answer({ status: 500 });
    await clock.advance(0);
    expect(rows.map((row) => fake.statusOf(row.id))).toEqual(['pending', 'pending', 'pending']);
    expect(rows.map((row) => row.attempts)).toEqual([1, 0, 0]);
    const writesWhileOpen = fake.writes();
    await clock.advance(5_000);
    // While open, the probe sees due deliveries but the lane claims nothing: no write, no send.
    expect(sender.sent).toHaveLength(1);
    expect(fake.writes()).toBe(writesWhileOpen);

    breaker.halfOpen();
    await clock.advance(0);
    expect(sender.sent).toHaveLength(2);
    await clock.advance(1_000);
    expect(sender.sent).toHaveLength(2);
    expect(rows.filter((row) => fake.statusOf(row.id) === 'in_flight')).toHaveLength(1);

    sender.sent[1]!.answer({ status: 200 });
    await clock.advance(0);
    expect(breaker.state()).toBe('closed');
    for (let round = 0; round < 5; round++) {
      for (const attempt of sender.sent) attempt.answer({ status: 200 });
      await clock.advance(0);
    }
    expect(rows.map((row) => fake.statusOf(row.id))).toEqual(['delivered', 'delivered', 'delivered']);
    await dispatcher.stop(0);
  });

  it('a claim whose answer was lost: its rows are released before the next claim and each is sent once', async () => {
    const { dispatcher, clock, fake, senders, lines } = createFakeDispatcher([{ name: 'a' }]);
    const rows = [fake.add('a'), fake.add('a')];
    fake.loseNextClaimAnswer();
    await dispatcher.start();
    const sender = senders.get('a')!;
    expect(sender.sent).toHaveLength(0);
    expect(rows.map((row) => fake.statusOf(row.id))).toEqual(['in_flight', 'in_flight']);
    // Backoff after a failed claim: twice the poll interval.
    await clock.advance(600);
    const firstClaim = fake.calls.indexOf('claimDue');
    expect(fake.calls.slice(firstClaim + 1).filter((call) => call !== 'nextDueAt').slice(0, 2)).toEqual(['releaseLostClaims', 'claimDue']);
    expect(sender.sent.map((attempt) => [attempt.delivery.id, attempt.number])).toEqual(rows.map((row) => [row.id, 1]));
    await clock.advance(250);
    expect(rows.map((row) => fake.statusOf(row.id))).toEqual(['delivered', 'delivered']);
    expect(lines.filter((line) => line.msg === 'claims whose answer was lost are pending again')).toEqual([expect.objectContaining({ count: 2 })]);
    await dispatcher.stop(0);
  });

  it('fifo: one delivery at a time, the next only after the previous result is recorded', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher([{ name: 'a', ordering: 'fifo', concurrency: 4 }]);
    const rows = [fake.add('a'), fake.add('a'), fake.add('a')];
    const sender = senders.get('a')!;
    sender.hold();
    await dispatcher.start();
    for (let round = 0; round < 3; round++) {
      await clock.advance(0);
      expect(rows.filter((row) => fake.statusOf(row.id) === 'in_flight')).toHaveLength(1);
      expect(sender.sent).toHaveLength(round + 1);
      sender.sent[round]!.answer({ status: 200 });
    }
    await clock.advance(0);
    expect(sender.sent.map((attempt) => attempt.delivery.id)).toEqual(rows.map((row) => row.id));
    expect(rows.map((row) => fake.statusOf(row.id))).toEqual(['delivered', 'delivered', 'delivered']);
    await dispatcher.stop(0);
  });

  it('bodies held at once stay within bodyBudgetBytes; one body larger than the budget is still sent, alone', async () => {
    const { dispatcher, clock, fake, senders } = createFakeDispatcher([{ name: 'a', concurrency: 8, bodyBudgetBytes: 2_500 }]);
    const rows = [1, 2, 3, 4, 5].map(() => fake.add('a', { body: Buffer.alloc(1_000) }));
    const big = fake.add('a', { body: Buffer.alloc(4_000) });
    const sender = senders.get('a')!;
    sender.hold();
    await dispatcher.start();
    let most = 0;
    for (let round = 0; round < 12; round++) {
      await clock.advance(0);
      const open = sender.sent.filter((attempt) => fake.statusOf(attempt.delivery.id) === 'in_flight');
      const held = [...fake.rows.values()].filter((row) => row.status === 'in_flight').reduce((sum, row) => sum + row.body.length, 0);
      if (open.some((attempt) => attempt.delivery.id === big.id)) expect(open).toHaveLength(1);
      else most = Math.max(most, held);
      open[0]?.answer({ status: 200 });
    }
    expect(most).toBeLessThanOrEqual(2_500);
    expect(most).toBeGreaterThanOrEqual(2_000);
    expect([...rows, big].map((row) => fake.statusOf(row.id))).toEqual(Array(6).fill('delivered'));
    await dispatcher.stop(0);
  });
});
