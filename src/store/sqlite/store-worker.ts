import { parentPort, workerData } from 'node:worker_threads';
import { isHookrelayError } from '../../errors.js';
import type { NewEvent } from '../../glossary.js';
import type { Store } from '../store.js';
import type { DatabaseLocation } from './database-files.js';
import type { ProcessLock } from './process-lock.js';
import { openSqliteStore } from './sqlite-store.js';
import { type WorkerReply, type WorkerRequest, asBuffer } from './worker-protocol.js';

/**
 * The SQLite thread of `serve`: owns the connection and runs every store call, so commits
 * (fsync) and lock waits never block the event loop that serves HTTP. Calls arrive as
 * messages; ingests that arrive together share one transaction (group commit).
 */
const { location, busyTimeoutMs, lockFile } = workerData as { location: DatabaseLocation; busyTimeoutMs: number; lockFile: ProcessLock['file'] | null };
const port = parentPort!;
let store: Store;

try {
  store = openSqliteStore({ path: location.configured, busyTimeoutMs, role: 'cli', thread: 'inline', located: { location, lockFile } });
  port.postMessage({ id: 0, ok: true, value: null } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: serializeError(error) } satisfies WorkerReply);
}

port.on('message', (request: WorkerRequest) => {
  void handle(request).then((reply) => {
    if (request.method !== 'claimDue') return port.postMessage(reply);
    try {
      port.postMessage(reply, claimedBodies(reply));
    } catch {
      // A buffer that cannot be moved (none is expected): send copies rather than no answer.
      port.postMessage(reply);
    }
  });
});

/**
 * Claimed bodies move to the dispatcher's thread instead of being copied (up to a lane's
 * whole byte budget per claim). Only a buffer that owns its whole memory is moved, never a
 * view into a shared pool.
 */
function claimedBodies(reply: WorkerReply): ArrayBuffer[] {
  if (!reply.ok) return [];
  const owned = (reply.value as { body: Buffer }[])
    .map(({ body }) => body)
    .filter((body) => body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer);
  return [...new Set(owned.map((body) => body.buffer as ArrayBuffer))];
}

async function handle({ id, method, args }: WorkerRequest): Promise<WorkerReply> {
  try {
    if (method === 'ingestBatch') {
      const events = (args[0] as NewEvent[]).map((event) => ({ ...event, body: asBuffer(event.body) }));
      const settled = await Promise.allSettled(events.map((event) => store.ingest(event)));
      return {
        id,
        ok: true,
        value: settled.map((result) => (result.status === 'fulfilled' ? { ok: true, value: result.value } : { ok: false, error: serializeError(result.reason) })),
      };
    }
    const value = await (store[method] as (...params: unknown[]) => Promise<unknown>).apply(store, args);
    if (method === 'close') setImmediate(() => port.close());
    return { id, ok: true, value };
  } catch (error) {
    return { id, ok: false, error: serializeError(error) };
  }
}

function serializeError(error: unknown): { name: string; code: string; message: string } {
  if (isHookrelayError(error)) return { name: error.name, code: error.code, message: error.message };
  const err = error as { name?: string; code?: string; message?: string };
  return { name: err?.name ?? 'Error', code: err?.code ?? 'HOOKRELAY_INTERNAL', message: err?.message ?? String(error) };
}
