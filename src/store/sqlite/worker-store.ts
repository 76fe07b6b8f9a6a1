import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { HookrelayError } from '../../errors.js';
import type { IngestResult, NewEvent } from '../../glossary.js';
import { createBatcher } from '../../batcher.js';
import { threadScript } from '../../thread-script.js';
import type { Store } from '../store.js';
import type { DatabaseLocation } from './database-files.js';
import type { ProcessLock } from './process-lock.js';
import {
  routeOf,
  STORE_METHODS,
  toError,
  withBodyBuffers,
  type ForwardedMethod,
  type SerializedError,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The thread's answer for one ingest of a batch. */
type IngestOutcome = { ok: true; value: IngestResult } | { ok: false; error: SerializedError };

interface StoreThread extends PortClient {
  terminate(): Promise<number>;
}

/** The requesting side of a store thread's message channel: a Worker's own port or an attached MessagePort. */
interface PortClient {
  call<T>(method: WorkerRequest['method'], ...args: unknown[]): Promise<T>;
  /** The error every call fails with once the thread has failed or the port has closed, else null. */
  broken(): HookrelayError | null;
}

interface Endpoint {
  postMessage(message: unknown, transfer: readonly MessagePort[]): void;
  on(event: 'message', listener: (reply: WorkerReply) => void): unknown;
}

/**
 * Request/reply over one endpoint: each call gets an id, the reply with that id settles it.
 * `fail` rejects every call waiting and every later one (the thread or port is gone).
 * The waiter with id 0 is the thread's `ready` message.
 */
function createPortClient(endpoint: Endpoint, ready?: Pending): PortClient & { fail(error: HookrelayError): void } {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let broken: HookrelayError | null = null;
  if (ready) pending.set(0, ready);
  endpoint.on('message', (reply: WorkerReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(toError(reply.error));
  });
  return {
    call<T>(method: WorkerRequest['method'], ...args: unknown[]): Promise<T> {
      if (broken) return Promise.reject(broken);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        // An attached port moves to the thread (a port is transferred, never copied).
        endpoint.postMessage({ id, method, args } satisfies WorkerRequest, method === 'attachPort' ? [args[0] as MessagePort] : []);
      });
    },
    broken: () => broken,
    fail(error) {
      broken ??= error;
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    },
  };
}

/**
 * Starts store-worker.ts on the database at `location` and resolves once its connection is
 * open. The writer also checks the serve lock file with the database files around each write.
 */
async function startStoreThread(
  location: DatabaseLocation,
  busyTimeoutMs: number,
  role: 'writer' | 'reader',
  lockFile: ProcessLock['file'] | null = null,
): Promise<StoreThread> {
  const worker = new Worker(threadScript('./store-worker.js', import.meta.url), { workerData: { location, busyTimeoutMs, role, lockFile } });
  let ready!: Pending;
  const opened = new Promise<void>((resolve, reject) => (ready = { resolve: () => resolve(), reject }));
  const client = createPortClient(worker, ready);
  worker.on('error', (error) => client.fail(new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage ${role} thread failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => client.fail(new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage ${role} thread exited (${code})`)));

  try {
    await opened;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return { call: client.call, broken: client.broken, terminate: () => worker.terminate() };
}

/**
 * A Store for another thread of the `serve` process (the delivery thread), over a port from
 * the owner's `connectThread()`: every call runs in the same writer thread, on the same
 * connection, as the owner's (operator reads too: this client has no reader thread of its
 * own). close() closes only the port; the owner closes the store.
 */
export function storeOverPort(port: MessagePort): Store {
  const client = createPortClient(port);
  let closed = false;
  port.on('close', () =>
    client.fail(closed ? new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed') : new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', 'the storage writer thread is gone')),
  );
  return storeOverCalls({
    call: client.call,
    closed: () => closed,
    async close() {
      closed = true;
      port.close();
    },
  });
}

/**
 * The Store of `serve` on SQLite: the same adapter, run in a worker thread (store-worker.ts).
 * Ingests of one event-loop turn travel as one message and commit in one transaction; no
 * caller is answered before that commit returns.
 *
 * Operator reads (metrics scrapes, the admin API, the dashboard) run in a second thread on
 * its own connection, started on the first such read: counting a million rows takes ~100 ms,
 * and in the writer's thread every ingest commit would wait behind it. In WAL mode readers
 * and the writer do not block each other, and a read sees every commit that returned before it.
 */
export async function openWorkerSqliteStore(options: { location: DatabaseLocation; busyTimeoutMs: number; lock: ProcessLock | null }): Promise<Store> {
  const writer = await startStoreThread(options.location, options.busyTimeoutMs, 'writer', options.lock?.file ?? null);
  let reader: Promise<StoreThread> | null = null;
  let closed = false;
  const readerThread = (): Promise<StoreThread> => {
    if (closed) return Promise.reject(new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed'));
    const current = reader;
    if (current) {
      return current.then((thread) => {
        if (!thread.broken()) return thread;
        // The reader thread died: replace it (reads never change anything, so nothing is lost).
        if (reader === current) reader = null;
        void thread.terminate();
        return readerThread();
      });
    }
    const starting = startStoreThread(options.location, options.busyTimeoutMs, 'reader');
    // A reader that could not start is tried again on the next read.
    starting.catch(() => {
      if (reader === starting) reader = null;
    });
    reader = starting;
    return starting;
  };
  const call = <T>(method: WorkerRequest['method'], ...args: unknown[]): Promise<T> =>
    routeOf(method)?.thread === 'reader' ? readerThread().then((thread) => thread.call<T>(method, ...args)) : writer.call<T>(method, ...args);

  const store = storeOverCalls({
    call,
    closed: () => closed,
    async close() {
      if (closed) return;
      closed = true;
      const openReader = reader ? await reader.catch(() => null) : null;
      try {
        if (!writer.broken()) await writer.call('close');
        if (openReader && !openReader.broken()) await openReader.call('close');
      } finally {
        await writer.terminate();
        await openReader?.terminate();
        options.lock?.release();
      }
    },
  });
  return {
    ...store,
    async connectThread() {
      if (closed) throw new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed');
      const { port1, port2 } = new MessageChannel();
      await writer.call('attachPort', port1);
      return port2;
    },
  };
}

interface CallingStoreDeps {
  call<T>(method: WorkerRequest['method'], ...args: unknown[]): Promise<T>;
  closed(): boolean;
  close(): Promise<void>;
}

/**
 * The Store over a store thread's calls. Ingests of one event-loop turn travel as one
 * message (and commit in one transaction in the thread); bodies come back as Buffers.
 */
function storeOverCalls({ call, closed: isClosed, close }: CallingStoreDeps): Store {
  // Ingests of one turn of the event loop go to the thread as one message, without waiting for
  // the previous one (the thread's own group commit decides the transactions). Each comes back
  // with its own result: one refused ingest does not fail the others.
  const ingests = createBatcher<NewEvent, IngestOutcome>({
    flush: (events) => call<IngestOutcome[]>('ingestBatch', events),
    maxBatch: Number.POSITIVE_INFINITY,
    maxConcurrent: Number.POSITIVE_INFINITY,
  });

  // Every other method is one call to the thread, as STORE_METHODS lists them.
  const forwarded = Object.fromEntries(
    Object.entries(STORE_METHODS).map(([method, route]): [string, (...args: unknown[]) => Promise<unknown>] => [
      method,
      'bodies' in route
        ? async (...args) => withBodyBuffers(await call(method as ForwardedMethod, ...args))
        : (...args) => call(method as ForwardedMethod, ...args),
    ]),
  ) as Pick<Store, ForwardedMethod>;

  const store: Store = {
    ...forwarded,
    ingest(event) {
      if (isClosed()) return Promise.reject(new HookrelayError('HOOKRELAY_SHUTTING_DOWN', 'store is closed'));
      return ingests.add(event).then((outcome) => {
        if (!outcome.ok) throw toError(outcome.error);
        return outcome.value;
      });
    },
    // A thread that cannot answer is as good as a store that cannot write.
    isWritable: () => forwarded.isWritable().catch(() => false),
    async close() {
      // Ingests queued this turn still go, and are answered, before the thread is told to close.
      await ingests.drain();
      await close();
    },
  };
  return store;
}
