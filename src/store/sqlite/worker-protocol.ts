import { HookrelayError, isHookrelayError, type ErrorCode, ERROR_CODES } from '../../errors.js';
import type { Store } from '../store.js';

/** The store methods a SQLite thread answers one call at a time (ingest travels in batches, see `ingestBatch`). */
export type ForwardedMethod = Exclude<keyof Store, 'ingest' | 'onDeliveriesDue' | 'connectThread' | 'close'>;

export interface MethodRoute {
  /**
   * Which thread of `serve`'s SQLite store answers: the writer (its one writing connection) or
   * the reader (operator reads on a connection of their own, so a long count never holds up
   * an ingest commit). A client over an attached port sends everything to the writer.
   */
  thread: 'writer' | 'reader';
  /**
   * The answer holds bodies (Buffers cross a thread as plain Uint8Arrays): `moved` — the
   * writer transfers them instead of copying (claims: up to a lane's whole byte budget);
   * `copied` — cloned as usual. The client views them as Buffers again.
   */
  bodies?: 'moved' | 'copied';
}

/**
 * Every method a SQLite store thread answers, once: the worker proxy (worker-store.ts) is built
 * from this table and the thread (store-worker.ts) checks calls against it. A new Store method
 * is written in the adapter and listed here; the type makes a missing or extra entry an error.
 */
export const STORE_METHODS = {
  isWritable: { thread: 'writer' },
  claimDue: { thread: 'writer', bodies: 'moved' },
  completeAttempts: { thread: 'writer' },
  releaseClaims: { thread: 'writer' },
  releaseLostClaims: { thread: 'writer' },
  recoverOrphanedLeases: { thread: 'writer' },
  // Read-only, but the writer counts its own commits to know when its last answer still holds.
  nextDueAt: { thread: 'writer' },
  writeTransactions: { thread: 'writer' },

  stats: { thread: 'reader' },
  listDeliveries: { thread: 'reader' },
  getDelivery: { thread: 'reader' },
  getEvent: { thread: 'reader', bodies: 'copied' },
  findEvents: { thread: 'reader' },
  listDeliveriesOfEvent: { thread: 'reader' },
  listAttempts: { thread: 'reader' },
  attemptHistogram: { thread: 'reader' },
  replayDead: { thread: 'writer' },
  redeliver: { thread: 'writer' },
  retryNow: { thread: 'writer' },
  pruneDelivered: { thread: 'writer' },
  quarantine: { thread: 'writer' },
  listQuarantined: { thread: 'reader' },
  getQuarantined: { thread: 'reader', bodies: 'copied' },
  removeQuarantined: { thread: 'writer' },
  pruneQuarantined: { thread: 'writer' },
  quarantineCounts: { thread: 'reader' },

  recordRun: { thread: 'writer' },
  markOverdueRuns: { thread: 'writer' },
  claimRunChecks: { thread: 'writer' },
  markRunsLost: { thread: 'writer' },
  scheduleRunChecks: { thread: 'writer' },
  listRuns: { thread: 'reader' },
  getRun: { thread: 'reader' },
  runCounts: { thread: 'reader' },
} as const satisfies Record<ForwardedMethod, MethodRoute>;

export function routeOf(method: string): MethodRoute | undefined {
  return Object.hasOwn(STORE_METHODS, method) ? (STORE_METHODS as Record<string, MethodRoute>)[method] : undefined;
}

/**
 * A store call sent to the SQLite thread. `ingestBatch` carries several ingests at once;
 * `attachPort` hands the thread another MessagePort to answer calls on (another thread's client);
 * `close` is the owner's only.
 */
export interface WorkerRequest {
  id: number;
  method: ForwardedMethod | 'ingestBatch' | 'attachPort' | 'close';
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

/** An answer whose route has `bodies`, with its bodies as Buffers again: a list of rows, one row, or null. */
export function withBodyBuffers<T>(value: T): T {
  const revive = (row: { body: Uint8Array }) => ({ ...row, body: asBuffer(row.body) });
  if (Array.isArray(value)) return value.map(revive) as T;
  return (value === null ? null : revive(value as { body: Uint8Array })) as T;
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
