import { HookrelayError } from '../../errors.js';

/** `--limit N`: a positive integer (range checks belong to the operation). */
export function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new HookrelayError('HOOKRELAY_USAGE', '--limit: expected a positive integer');
  return Number(value);
}
