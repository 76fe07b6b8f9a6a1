import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs, type RetryPolicy } from '../../src/delivery/backoff.js';

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 12,
  initialDelayMs: 1_000,
  multiplier: 2,
  maxDelayMs: 3_600_000,
  ...overrides,
});

describe('backoffCeilingMs = min(maxDelayMs, initialDelayMs * multiplier^(n-1))', () => {
  const rows: { name: string; policy: RetryPolicy; failed: number; ceiling: number }[] = [
    { name: 'first failure waits initialDelayMs', policy: policy(), failed: 1, ceiling: 1_000 },
    { name: 'second failure doubles', policy: policy(), failed: 2, ceiling: 2_000 },
    { name: 'fifth failure', policy: policy(), failed: 5, ceiling: 16_000 },
    { name: 'capped by maxDelayMs', policy: policy({ maxDelayMs: 10_000 }), failed: 5, ceiling: 10_000 },
    { name: 'exactly at the cap', policy: policy({ maxDelayMs: 8_000 }), failed: 4, ceiling: 8_000 },
    { name: 'multiplier 1 is a constant delay', policy: policy({ multiplier: 1 }), failed: 9, ceiling: 1_000 },
    { name: 'multiplier 3', policy: policy({ initialDelayMs: 300, multiplier: 3 }), failed: 3, ceiling: 2_700 },
    { name: 'fractional multiplier', policy: policy({ initialDelayMs: 1_000, multiplier: 1.5 }), failed: 3, ceiling: 2_250 },
    { name: 'huge exponent stays at the cap (no Infinity/NaN)', policy: policy({ maxDelayMs: 3_600_000 }), failed: 5_000, ceiling: 3_600_000 },
    { name: 'zero failures is treated like the first', policy: policy(), failed: 0, ceiling: 1_000 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(backoffCeilingMs(row.policy, row.failed)).toBe(row.ceiling);
    });
  }
});

describe('backoffDelayMs: jitter in [half, full] of the ceiling', () => {
  it('random 0 gives half the ceiling, random just below 1 gives the ceiling', () => {
    expect(backoffDelayMs(policy(), 3, () => 0)).toBe(2_000);
    expect(backoffDelayMs(policy(), 3, () => 0.999_999_999)).toBe(4_000);
    expect(backoffDelayMs(policy({ maxDelayMs: 5_000 }), 10, () => 0.5)).toBe(3_750);
  });

  it('is always within [ceil(ceiling / 2), ceiling] for any policy, attempt count and random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 86_400_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 86_400_000 }),
        fc.integer({ min: 0, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (initialDelayMs, multiplier, maxDelayMs, failed, draw) => {
          const p = policy({ initialDelayMs, multiplier, maxDelayMs });
          const ceiling = backoffCeilingMs(p, failed);
          const delay = backoffDelayMs(p, failed, () => draw);
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
          expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling));
          expect(ceiling).toBeLessThanOrEqual(maxDelayMs);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('spreads out deliveries that failed together (real Math.random)', () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoffDelayMs(policy({ initialDelayMs: 60_000 }), 1)));
    expect(delays.size).toBeGreaterThan(50);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(30_000);
      expect(delay).toBeLessThanOrEqual(60_000);
    }
  });
});
