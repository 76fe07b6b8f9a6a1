import { Worker } from 'node:worker_threads';
import { HookrelayError, type ErrorCode, ERROR_CODES } from '../../errors.js';
import type { ClaimedDelivery, IngestResult, NewEvent, StoredEvent } from '../../glossary.js';
import type { Store } from '../store.js';
import type { ProcessLock } from './process-lock.js';
import { asBuffer, type SerializedError, type WorkerReply, type WorkerRequest } from './worker-protocol.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface QueuedIngest {
  event: NewEvent;
  resolve: (value: IngestResult) => void;
  reject: (error: unknown) => void;
}

/**
 * The Store of `serve` on SQLite: the same adapter, run in a worker thread (store-worker.ts).
 * Ingests of one event-loop turn travel as one message and commit in one transaction; no
 * caller is answered before that commit returns.
 */
export async function openWorkerSqliteStore(options: { path: string; busyTimeoutMs: number; lock: ProcessLock | null }): Promise<Store> {
  const worker = new Worker(new URL('./store-worker.js', import.meta.url), {
    workerData: { path: options.path, busyTimeoutMs: options.busyTimeoutMs },
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let broken: HookrelayError | null = null;

  const ready = new Promise<void>((resolve, reject) => pending.set(0, { resolve: () => resolve(), reject }));
  worker.on('message', (reply: WorkerReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(toError(reply.error));
  });
  const fail = (error: HookrelayError) => {
    broken ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  worker.on('error', (error) => fail(new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage thread failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => fail(new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage thread exited (${code})`)));

  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }

  const call = <T>(method: WorkerRequest['method'], ...args: unknown[]): Promise<T> => {
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, method, args } satisfies WorkerRequest);
    });
  };

  // Ingests of one turn of the event loop go to the thread as one message.
  let queued: QueuedIngest[] = [];
  let scheduled = false;
  let closed = false;
  const sendIngests = () => {
    scheduled = false;
    const batch = queued;
    queued = [];
    call<({ ok: true; value: IngestResult } | { ok: false; error: SerializedError })[]>('ingestBatch', batch.map((item) => item.event)).then(
      (results) =>
        results.forEach((result, index) => {
          const item = batch[index]!;
          if (result.ok) item.resolve(result.value);
          else item.reject(toError(result.error));
        }),
      (error: unknown) => batch.forEach((item) => item.reject(error)),
    );
  };

  const store: Store = {
    kind: 'sqlite',
    ingest(event) {
      if (closed) return Promise.reject(new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed'));
      return new Promise((resolve, reject) => {
        queued.push({ event, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(sendIngests);
        }
      });
    },
    isWritable: () => call<boolean>('isWritable').catch(() => false),
    claimDue: async (request) => (await call<ClaimedDelivery[]>('claimDue', request)).map((delivery) => ({ ...delivery, body: asBuffer(delivery.body) })),
    completeAttempts: (completions, owner) => call('completeAttempts', completions, owner),
    releaseClaims: (ids, at, attempted) => call('releaseClaims', ids, at, attempted ?? false),
    recoverOrphanedLeases: (now) => call('recoverOrphanedLeases', now),
    nextDueAt: (destinations) => call('nextDueAt', destinations),
    stats: (destinations) => call('stats', destinations),
    listDeliveries: (filter) => call('listDeliveries', filter),
    getDelivery: (id) => call('getDelivery', id),
    getEvent: async (id) => {
      const event = await call<StoredEvent | null>('getEvent', id);
      return event ? { ...event, body: asBuffer(event.body) } : null;
    },
    findEvents: (filter) => call('findEvents', filter),
    listDeliveriesOfEvent: (eventId) => call('listDeliveriesOfEvent', eventId),
    listAttempts: (deliveryId) => call('listAttempts', deliveryId),
    replayDead: (selector, now, dryRun) => call('replayDead', selector, now, dryRun),
    redeliver: (eventId, destinations, now) => call('redeliver', eventId, destinations, now),
    pruneDelivered: (before, limit) => call('pruneDelivered', before, limit),
    attemptHistogram: (since, bucketMs) => call('attemptHistogram', since, bucketMs),
    async close() {
      if (closed) return;
      closed = true;
      if (scheduled) sendIngests();
      try {
        if (!broken) await call('close');
      } finally {
        await worker.terminate();
        options.lock?.release();
      }
    },
  };
  return store;
}

/** Rebuilds an error from the thread: our codes become HookrelayErrors again. */
function toError(error: SerializedError): Error {
  if (error.name === 'HookrelayError' && error.code in ERROR_CODES) return new HookrelayError(error.code as ErrorCode, error.message);
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}
