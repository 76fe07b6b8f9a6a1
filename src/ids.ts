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

let lastMs = 0;
let sequence = 0;

/**
 * Time-ordered ids: `<prefix>_` + milliseconds in base 36 (9 chars, sorts until year 5188)
 * + a per-millisecond sequence (4 chars) + 48 random bits. Within one process ids are
 * strictly increasing, so sorting by id sorts by creation order; across processes by time.
 */
export function newId(prefix: 'evt' | 'dlv' | 'run' | 'qtn'): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else {
    sequence++;
  }
  return `${prefix}_${lastMs.toString(36).padStart(9, '0')}${sequence.toString(36).padStart(4, '0')}${randomHex(6)}`;
}
