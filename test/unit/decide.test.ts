import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, type RetryPolicy } from '../../src/delivery/backoff.js';
import { decideNext } from '../../src/delivery/decide.js';
import { leaseMsFor } from '../../src/delivery/dispatcher.js';
import { classify, type SendResult } from '../../src/delivery/outcome.js';

const NOW = 1_700_000_000_000;
const policy: RetryPolicy = { maxAttempts: 4, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 60_000 };
const response = (status: number, retryAfterMs?: number): SendResult => ({
  kind: 'response',
  status,
  snippet: null,
  durationMs: 3,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});
const refused: SendResult = { kind: 'error', code: 'ECONNREFUSED', message: 'refused', durationMs: 1 };
const decide = (result: SendResult, budgetUsedBefore: number, random: () => number = () => 0.5, p = policy) =>
  decideNext(classify(result), result, budgetUsedBefore, p, NOW, random);

describe('decideNext', () => {
  it('a 2xx is delivered whatever the budget', () => {
    expect(decide(response(200), 0)).toEqual({ kind: 'delivered' });
    expect(decide(response(204), 3)).toEqual({ kind: 'delivered' });
  });

  const budgetRows: { used: number; kind: 'retry' | 'dead' }[] = [
    { used: 0, kind: 'retry' },
    { used: 1, kind: 'retry' },
    { used: 2, kind: 'retry' },
    { used: 3, kind: 'dead' },
  ];
  for (const row of budgetRows) {
    it(`maxAttempts 4: failure with ${row.used} attempts already used -> ${row.kind}`, () => {
      expect(decide(response(500), row.used).kind).toBe(row.kind);
      expect(decide(refused, row.used).kind).toBe(row.kind);
      expect(decide(response(400), row.used).kind).toBe(row.kind);
    });
  }

  it('maxAttempts 1: the first failure is dead', () => {
    expect(decide(response(500), 0, undefined, { ...policy, maxAttempts: 1 })).toEqual({ kind: 'dead' });
  });

  it('a retry is scheduled within [half, full] of the backoff ceiling for this attempt', () => {
    for (const used of [0, 1, 2]) {
      const ceiling = backoffCeilingMs(policy, used + 1);
      const low = decide(response(500), used, () => 0);
      const high = decide(response(500), used, () => 0.999_999);
      expect(low).toEqual({ kind: 'retry', nextAttemptAt: NOW + ceiling / 2 });
      expect(high).toEqual({ kind: 'retry', nextAttemptAt: NOW + ceiling });
    }
  });

  it('Retry-After longer than the backoff wins on 429 and 503', () => {
    expect(decide(response(429, 30_000), 0)).toEqual({ kind: 'retry', nextAttemptAt: NOW + 30_000 });
    expect(decide(response(503, 30_000), 1)).toEqual({ kind: 'retry', nextAttemptAt: NOW + 30_000 });
  });

  const capRows: { name: string; status: number; retryAfterMs: number; used: number; delay: number }[] = [
    { name: 'just under maxDelayMs: honoured in full', status: 429, retryAfterMs: 59_999, used: 0, delay: 59_999 },
    { name: 'exactly maxDelayMs', status: 503, retryAfterMs: 60_000, used: 0, delay: 60_000 },
    { name: 'one ms over maxDelayMs: capped', status: 429, retryAfterMs: 60_001, used: 0, delay: 60_000 },
    { name: '99999999999 s (the year 5195): capped', status: 503, retryAfterMs: 99_999_999_999_000, used: 1, delay: 60_000 },
    { name: 'capped even when the backoff is at its ceiling', status: 429, retryAfterMs: 86_400_000, used: 2, delay: 60_000 },
  ];
  for (const row of capRows) {
    it(`Retry-After is honoured up to maxDelayMs: ${row.name}`, () => {
      expect(decide(response(row.status, row.retryAfterMs), row.used, () => 0.999_999, { ...policy, maxAttempts: 10 })).toEqual({
        kind: 'retry',
        nextAttemptAt: NOW + row.delay,
      });
    });
  }

  it('Retry-After shorter than the backoff does not shorten it', () => {
    expect(decide(response(429, 10), 2, () => 0)).toEqual({ kind: 'retry', nextAttemptAt: NOW + 2_000 });
  });

  it('Retry-After is ignored on other statuses', () => {
    expect(decide(response(500, 30_000), 0, () => 0)).toEqual({ kind: 'retry', nextAttemptAt: NOW + 500 });
    expect(decide(response(400, 30_000), 0, () => 0)).toEqual({ kind: 'retry', nextAttemptAt: NOW + 500 });
  });

  it('a Retry-After does not save a delivery whose budget is spent', () => {
    expect(decide(response(429, 30_000), 3)).toEqual({ kind: 'dead' });
  });

  it('jitter never shortens a Retry-After (capped at maxDelayMs) and never exceeds the larger of it and the ceiling', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.constantFrom(429, 503),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (used, retryAfterMs, status, draw) => {
          const decision = decide(response(status, retryAfterMs), used, () => draw);
          expect(decision.kind).toBe('retry');
          if (decision.kind !== 'retry') return;
          const delay = decision.nextAttemptAt - NOW;
          const ceiling = backoffCeilingMs(policy, used + 1);
          const honoured = Math.min(retryAfterMs, policy.maxDelayMs);
          expect(delay).toBeGreaterThanOrEqual(honoured);
          expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
          expect(delay).toBeLessThanOrEqual(Math.max(honoured, ceiling));
          expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('leaseMsFor: a lease always outlives the attempt it covers', () => {
  it('is longer than the attempt timeout for any timeout', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400_000 }), (timeoutMs) => {
        const destination = { timeoutMs } as Parameters<typeof leaseMsFor>[0];
        expect(leaseMsFor(destination)).toBeGreaterThan(timeoutMs + 1_000);
      }),
    );
  });
});
