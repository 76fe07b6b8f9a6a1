import type { Store } from '../store.js';

/** A store call sent to the SQLite thread. `ingestBatch` carries several ingests at once. */
export interface WorkerRequest {
  id: number;
  method: Exclude<keyof Store, 'kind' | 'onDeliveriesDue' | 'ingest'> | 'ingestBatch';
  args: unknown[];
}

export interface SerializedError {
  name: string;
  code: string;
  message: string;
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** Buffers cross a thread as plain Uint8Arrays; view them as Buffers again without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
