import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { deepFreeze, type Config } from '../../config/load.js';
import { createLogger } from '../../log.js';
import { openStore } from '../../store/open-store.js';
import { storeOverPort } from '../../store/sqlite/worker-store.js';
import { serializeError } from '../../store/sqlite/worker-protocol.js';
import type { Store } from '../../store/store.js';
import { createDispatcher, type Dispatcher } from '../dispatcher.js';
import type { DeliveryObserver } from '../observer.js';
import type { DeliveryWorkerData, FromDeliveryThread, ObservedCall, ToDeliveryThread } from './messages.js';

/**
 * The delivery thread of `serve` (started by delivery-thread.ts): runs the dispatcher — claims,
 * undici requests, signing, attempt bookkeeping — away from the event loop that reads,
 * verifies, commits and answers callbacks. Its store: on SQLite a client of the process's one
 * writer thread (over the port it was given), on PostgreSQL a pool of its own.
 */
/** The delivery thread's nice value (Linux): below the ingress and store threads under CPU contention. */
const DELIVERY_THREAD_NICE = 5;

const data = workerData as DeliveryWorkerData;
const config = deepFreeze(data.config);
const host = parentPort!;
const send = (message: FromDeliveryThread) => host.postMessage(message);
lowerThreadPriority();

// Log lines go to the main thread, which writes them with its own: one writer on stdout, so a
// line of this thread can never land inside one of the main thread's (a pipe write of more
// than 4 KiB is not atomic, and pino writes up to 16 KiB at once).
let logText = '';
const flushLogText = () => {
  if (logText === '') return;
  send({ type: 'log', text: logText });
  logText = '';
};
const logger = createLogger({
  level: config.log.level,
  // Records cross as JSON; the main thread's stream formats them (LOG_FORMAT) with its own.
  format: 'json',
  destination: {
    write(line: string) {
      if (logText === '') setImmediate(flushLogText);
      logText += line;
    },
  },
});

// Observer calls of one turn cross to the main thread (the metrics) as one message.
let observed: ObservedCall[] = [];
const flushObserved = () => {
  if (observed.length === 0) return;
  const calls = observed;
  observed = [];
  send({ type: 'observed', calls });
};
const observe = (call: ObservedCall) => {
  if (observed.length === 0) setImmediate(flushObserved);
  observed.push(call);
};
const observer: Required<DeliveryObserver> = {
  attempted: (destination, outcome, durationSeconds) => observe(['attempted', destination, outcome, durationSeconds]),
  breakerChanged: (destination, state) => observe(['breakerChanged', destination, state]),
  fellBack: (from, to) => observe(['fellBack', from, to]),
  rateLimited: (destination, waitedSeconds) => observe(['rateLimited', destination, waitedSeconds]),
};

let store: Store | null = null;
let dispatcher: Dispatcher | null = null;
let started = false;

host.on('message', (message: ToDeliveryThread) => {
  if (message.type === 'wake') {
    if (started) dispatcher!.wake(message.destinations ?? undefined);
  } else if (message.type === 'countWrites') {
    void (store?.writeTransactions() ?? Promise.resolve(0)).catch(() => 0).then((count) => send({ type: 'writes', count }));
  } else {
    void stop(message.graceMs);
  }
});

try {
  // SQLite: the main store's writer thread, over the port; PostgreSQL: a pool of this thread's own.
  store = data.storePort ? storeOverPort(data.storePort) : await openStore(deliveryStorage(config.storage), { client: 'serve', lock: false, thread: 'inline', mustExist: false });
  dispatcher = createDispatcher({ config, store, logger, observer });
  await dispatcher.start();
  started = true;
  send({ type: 'started' });
} catch (error) {
  await store?.close().catch(() => undefined);
  await flushLog();
  send({ type: 'startFailed', error: serializeError(error) });
}

async function stop(graceMs: number): Promise<void> {
  try {
    if (started) await dispatcher!.stop(graceMs);
    flushObserved();
    await store?.close();
    await flushLog();
    send({ type: 'stopped' });
  } catch (error) {
    await flushLog();
    send({ type: 'stopFailed', error: serializeError(error) });
  }
}

/**
 * PostgreSQL: the delivery thread's own pool, half the configured size (at least one): the
 * main thread keeps its pool for ingest, run tracking, retention and operator reads.
 */
function deliveryStorage(storage: Config['storage']): Config['storage'] {
  if (storage.kind !== 'postgres') return storage;
  return { ...storage, postgres: { ...storage.postgres, poolSize: deliveryPoolSize(storage.postgres.poolSize) } };
}

function deliveryPoolSize(poolSize: number): number {
  return Math.max(1, Math.ceil(poolSize / 2));
}

/** Log lines of this turn reach the main thread before it ends this thread. */
async function flushLog(): Promise<void> {
  flushLogText();
}

/**
 * Deliveries are background work: when the cores are busy, answering a sender (whose retries
 * span seconds) comes first, and deliveries catch up from the database. On Linux a thread is a
 * task with its own nice value; this one runs at DELIVERY_THREAD_NICE. Elsewhere, or when the
 * system refuses, it runs at the process's priority.
 */
function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, DELIVERY_THREAD_NICE);
  } catch {
    // Not Linux, or no /proc: same priority as the rest of the process.
  }
}
