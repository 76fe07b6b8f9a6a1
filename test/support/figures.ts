import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** True when the long variants run (`HOOKRELAY_LONG_TESTS=1`, see `npm run test:long`). */
export const LONG = process.env.HOOKRELAY_LONG_TESTS === '1';

/** Where the suites write their figures (git-ignored test-results/), for docs/guarantees.md. */
const FIGURES_DIR = resolve(import.meta.dirname, '../../test-results/reliability');

/** Prints the figures of a run and saves them as test-results/reliability/<name>.json. */
export function reportFigures(name: string, figures: Record<string, unknown>): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  const record = { suite: name, long: LONG, at: new Date().toISOString(), ...figures };
  writeFileSync(resolve(FIGURES_DIR, `${name}${LONG ? '-long' : ''}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`[figures] ${name}: ${JSON.stringify(figures)}`);
}

/** A uniformly random integer in [min, max]. */
export function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
