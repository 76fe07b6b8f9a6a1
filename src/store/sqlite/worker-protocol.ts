import { HookrelayError, isHookrelayError, type ErrorCode, ERROR_CODES } from '../../errors.js';
import type { Store } from '../store.js';

/**
 * A store call sent to the SQLite thread. `ingestBatch` carries several ingests at once;
 * `attachPort` hands the thread another MessagePort to answer calls on (another thread's client).
 */
export interface WorkerRequest {
  id: number;
  method: Exclude<keyof Store, 'kind' | 'onDeliveriesDue' | 'ingest' | 'connectThread'> | 'ingestBatch' | 'attachPort';
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

/** An error as it crosses a thread: its name, code and message (a structured clone would drop the code's class). */
export function serializeError(error: unknown): SerializedError {
  if (isHookrelayError(error)) return { name: error.name, code: error.code, message: error.message };
  const err = error as { name?: string; code?: string; message?: string };
  return { name: err?.name ?? 'Error', code: err?.code ?? 'HOOKRELAY_INTERNAL', message: err?.message ?? String(error) };
}

/** Rebuilds an error from another thread: our codes become HookrelayErrors again. */
export function toError(error: SerializedError): Error {
  if (error.name === 'HookrelayError' && error.code in ERROR_CODES) return new HookrelayError(error.code as ErrorCode, error.message);
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}
