import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/delivery/rate-limit.js';

/** Most starts in any half-open window [t, t + 1000). */
function busiestSecond(starts: readonly number[]): number {
  let most = 0;
  for (const [index, start] of starts.entries()) {
    most = Math.max(most, starts.slice(index).filter((at) => at < start + 1000).length);
  }
  return most;
}

describe('rate limiter (sliding window per destination)', () => {
  it('perSecond 10: ten starts at once, the eleventh waits until the first leaves the window', () => {
    const limiter = createRateLimiter(10);
    for (let i = 0; i < 10; i += 1) expect(limiter.tryStart(1_000 + i)).toBe(0);
    expect(limiter.tryStart(1_500)).toBe(500);
    expect(limiter.tryStart(1_999)).toBe(1);
    expect(limiter.tryStart(2_000)).toBe(0);
    expect(limiter.tryStart(2_000)).toBe(1);
  });

  it('a fraction spaces starts out: 0.5 per second is one start per two seconds', () => {
    const limiter = createRateLimiter(0.5);
    expect(limiter.tryStart(0)).toBe(0);
    expect(limiter.tryStart(1_000)).toBe(1_000);
    expect(limiter.tryStart(2_000)).toBe(0);
  });

  it('whoever asks whenever, no second ever holds more than perSecond starts, and a waiter is told when to come back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }), (perSecond, gaps) => {
        const limiter = createRateLimiter(perSecond);
        const started: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const wait = limiter.tryStart(now);
          if (wait > 0) {
            now += wait;
            expect(limiter.tryStart(now)).toBe(0);
          }
          started.push(now);
        }
        expect(busiestSecond(started)).toBeLessThanOrEqual(perSecond);
      }),
    );
  });

  it('holds ready only what can start within a given time', () => {
    expect(createRateLimiter(10).startsWithin(15_000)).toBe(150);
    expect(createRateLimiter(0.01).startsWithin(15_000)).toBe(1);
  });
});
