import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { HookrelayError } from '../../errors.js';
import type { NewEvent } from '../../glossary.js';
import type { Store } from '../store.js';
import type { DatabaseLocation } from './database-files.js';
import type { ProcessLock } from './process-lock.js';
import { openSqliteHere } from './sqlite-store.js';
import { type WorkerReply, type WorkerRequest, asBuffer, routeOf, serializeError } from './worker-protocol.js';

/**
 * The SQLite thread of `serve`: owns the connection and runs every store call, so commits
 * (fsync) and lock waits never block the event loop that serves HTTP. Calls arrive as
 * messages; ingests that arrive together share one transaction (group commit).
 */
const { location, busyTimeoutMs, lockFile } = workerData as { location: DatabaseLocation; busyTimeoutMs: number; lockFile: ProcessLock['file'] | null };
const port = parentPort!;
let store: Store;

try {
  // The main thread holds the serve lock (if any) and releases it; this thread checks its file with the database's.
  store = openSqliteHere(location, busyTimeoutMs, null, lockFile);
  port.postMessage({ id: 0, ok: true, value: null } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: serializeError(error) } satisfies WorkerReply);
}

/** Ports attached for other threads: closed with the store, so their clients fail at once. */
const attached = new Set<MessagePort>();

answerOn(port, true);

/**
 * Answers store calls arriving on `endpoint`: the parent's port (the owner, which alone may
 * close the store) or a port attached for another thread of the process (the delivery thread).
 */
function answerOn(endpoint: MessagePort, owner: boolean): void {
  endpoint.on('message', (request: WorkerRequest) => {
    void handle(request, owner).then((reply) => {
      if (routeOf(request.method)?.bodies !== 'moved') return endpoint.postMessage(reply);
      try {
        endpoint.postMessage(reply, claimedBodies(reply));
      } catch {
        // A buffer that cannot be moved (none is expected): send copies rather than no answer.
        endpoint.postMessage(reply);
      }
    });
  });
}

/**
 * Claimed bodies (the `moved` route) go to the dispatcher's thread instead of being copied (up
 * to a lane's whole byte budget per claim). Only a buffer that owns its whole memory is moved,
 * never a view into a shared pool.
 */
function claimedBodies(reply: WorkerReply): ArrayBuffer[] {
  if (!reply.ok) return [];
  const owned = (reply.value as { body: Buffer }[])
    .map(({ body }) => body)
    .filter((body) => body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer);
  return [...new Set(owned.map((body) => body.buffer as ArrayBuffer))];
}

async function handle({ id, method, args }: WorkerRequest, owner: boolean): Promise<WorkerReply> {
  try {
    if (method === 'attachPort' || method === 'close') {
      if (!owner) throw new HookrelayError('HOOKRELAY_INTERNAL', `${method} is for the store's owner only`);
      if (method === 'attachPort') {
        const other = args[0] as MessagePort;
        attached.add(other);
        other.on('close', () => attached.delete(other));
        answerOn(other, false);
        return { id, ok: true, value: null };
      }
    }
    if (method === 'ingestBatch') {
      const events = (args[0] as NewEvent[]).map((event) => ({ ...event, body: asBuffer(event.body) }));
      const settled = await Promise.allSettled(events.map((event) => store.ingest(event)));
      return {
        id,
        ok: true,
        value: settled.map((result) => (result.status === 'fulfilled' ? { ok: true, value: result.value } : { ok: false, error: serializeError(result.reason) })),
      };
    }
    if (method !== 'close' && !routeOf(method)) throw new HookrelayError('HOOKRELAY_INTERNAL', `${method} is not a store method`);
    const value = await (store[method] as (...params: unknown[]) => Promise<unknown>).apply(store, args);
    if (method === 'close') {
      setImmediate(() => {
        for (const other of attached) other.close();
        port.close();
      });
    }
    return { id, ok: true, value };
  } catch (error) {
    return { id, ok: false, error: serializeError(error) };
  }
}
