import { describe, expect, it } from 'vitest';
import { createLogThrottle } from '../../src/delivery/log-throttle.js';

describe('createLogThrottle: a repeating line at most once per interval, with its count', () => {
  const rows: { name: string; at: number[]; logged: [number, number][] }[] = [
    { name: 'the first occurrence is logged at once', at: [0], logged: [[0, 1]] },
    { name: 'occurrences within the interval are held back', at: [0, 200, 400, 4_999], logged: [[0, 1]] },
    { name: 'the first one after the interval carries the held-back count', at: [0, 200, 400, 5_000], logged: [[0, 1], [5_000, 3]] },
    { name: 'every 300 ms for 12 s: three lines', at: Array.from({ length: 41 }, (_, i) => i * 300), logged: [[0, 1], [5_100, 17], [10_200, 17]] },
    { name: 'occurrences far apart are each logged alone', at: [0, 60_000, 120_000], logged: [[0, 1], [60_000, 1], [120_000, 1]] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      let clock = 0;
      const throttle = createLogThrottle(5_000, () => clock);
      const logged: [number, number][] = [];
      for (const at of row.at) {
        clock = at;
        throttle((occurrences) => logged.push([clock, occurrences]));
      }
      expect(logged).toEqual(row.logged);
    });
  }
});
