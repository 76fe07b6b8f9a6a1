import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from '../../src/delivery/retry-after.js';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

describe('parseRetryAfterMs', () => {
  const rows: { name: string; value: string | undefined; expected: number | undefined }[] = [
    { name: 'delay in seconds', value: '2', expected: 2_000 },
    { name: 'zero seconds', value: '0', expected: 0 },
    { name: 'seconds with surrounding spaces', value: ' 120 ', expected: 120_000 },
    { name: 'large delay in seconds', value: '86400', expected: 86_400_000 },
    { name: 'HTTP date in the future', value: 'Sun, 01 Mar 2026 12:00:30 GMT', expected: 30_000 },
    { name: 'HTTP date exactly now', value: 'Sun, 01 Mar 2026 12:00:00 GMT', expected: 0 },
    { name: 'HTTP date in the past is 0 (retry now, i.e. the backoff decides)', value: 'Sun, 01 Mar 2026 11:00:00 GMT', expected: 0 },
    { name: 'absent', value: undefined, expected: undefined },
    { name: 'empty', value: '', expected: undefined },
    { name: 'garbage', value: 'soon please', expected: undefined },
    { name: 'negative seconds are not a delay', value: '-5', expected: undefined },
    { name: 'fractional seconds are not the RFC form', value: '1.5', expected: undefined },
  ];
  for (const row of rows) {
    it(`${row.name}: ${JSON.stringify(row.value)}`, () => {
      expect(parseRetryAfterMs(row.value, NOW)).toBe(row.expected);
    });
  }
});

describe('parseRetryAfterMs: values that would park a delivery forever are rejected', () => {
  it('a seconds value too large to be a finite, exact number of ms', () => {
    expect(parseRetryAfterMs('9'.repeat(400), NOW)).toBeUndefined();
    expect(parseRetryAfterMs('99999999999999999', NOW)).toBeUndefined();
  });
  it('RFC 850 and asctime date forms are understood', () => {
    expect(parseRetryAfterMs('Sunday, 01-Mar-26 12:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfterMs('Sun Mar  1 12:00:10 2026', NOW)).toBeGreaterThanOrEqual(0);
  });
});
