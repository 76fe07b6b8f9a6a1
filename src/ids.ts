import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/**
 * Time-ordered ids: `<prefix>_` + milliseconds in base 36 (9 chars, sorts until year 5188)
 * + 64 random bits. Sorting ids sorts by creation time (to the millisecond).
 */
export function newId(prefix: 'evt' | 'dlv'): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomHex(8)}`;
}
