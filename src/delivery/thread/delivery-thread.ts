import { Worker } from 'node:worker_threads';
import { symbols } from 'pino';
import type { Config } from '../../config/load.js';
import { HookrelayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { toError } from '../../store/sqlite/worker-protocol.js';
import { threadScript } from '../../thread-script.js';
import type { DeliveryStore } from '../../store/store.js';
import type { Dispatcher } from '../dispatcher.js';
import type { BreakerState, DeliveryObserver } from '../observer.js';
import type { DeliveryWorkerData, FromDeliveryThread, ObservedCall, ToDeliveryThread } from './messages.js';

export interface DeliveryThreadDeps {
  config: Config;
  /** The main thread's store: on SQLite the delivery thread becomes another client of its writer thread. */
  store: Pick<DeliveryStore, 'connectThread'>;
  logger: Logger;
  /** Lives on the main thread (the metrics); the thread's observer calls are replayed on it. */
  observer?: DeliveryObserver;
  /**
   * The thread ended without being stopped (a crash): nothing delivers any more. Called once.
   * Its claims come back on their own: at the next start on SQLite, when their leases expire
   * on PostgreSQL.
   */
  onDied(error: HookrelayError): void;
}

type Reply = Extract<FromDeliveryThread, { type: 'started' | 'startFailed' | 'stopped' | 'stopFailed' }>;

export interface DeliveryThread extends Dispatcher {
  /**
   * Write transactions begun by the thread's own store: its PostgreSQL pool; 0 on SQLite,
   * whose writer thread (the main store's) counts the thread's writes itself.
   */
  ownWriteTransactions(): Promise<number>;
}

/**
 * The dispatcher, run in its own thread (delivery-worker.ts), behind the same Dispatcher
 * interface: start/stop run there and answer here; wake-ups of one turn go over as one
 * message; breaker states are the last ones the thread reported (all closed at first), so
 * breakerStates() stays synchronous for the admin API.
 */
export function createDeliveryThread({ config, store, logger, observer = {}, onDied }: DeliveryThreadDeps): DeliveryThread {
  const log = logger.child({ component: 'dispatcher' });
  const writeLog = logWriter(logger);
  const breakers: Record<string, BreakerState> = Object.fromEntries(config.destinations.map((destination) => [destination.name, 'closed']));
  let worker: Worker | null = null;
  /** The thread's dispatcher has started; from then on an exit not asked for is a death. */
  let started = false;
  /** stop() began or start failed: the thread's exit is expected. */
  let ending = false;
  let died: HookrelayError | null = null;
  let threadError: Error | null = null;
  let waiting: { resolve(reply: Reply): void; reject(error: HookrelayError): void } | null = null;
  let stopping: Promise<void> | null = null;

  /** Callers of ownWriteTransactions() waiting for the thread's answers, in order. */
  const countWaiters: ((count: number) => void)[] = [];
  const nextReply = () => new Promise<Reply>((resolve, reject) => (waiting = { resolve, reject }));
  const post = (message: ToDeliveryThread) => worker?.postMessage(message);

  // Wake-ups of one event-loop turn (every ingest commit of a group commit) go as one message.
  let wakeAll = false;
  let toWake = new Set<string>();
  let wakeScheduled = false;
  const sendWakes = () => {
    wakeScheduled = false;
    const destinations = wakeAll ? null : [...toWake];
    wakeAll = false;
    toWake = new Set();
    if (!ending && !died) post({ type: 'wake', destinations });
  };

  const replay = (call: ObservedCall) => {
    switch (call[0]) {
      case 'attempted':
        return observer.attempted?.(call[1], call[2], call[3]);
      case 'breakerChanged':
        breakers[call[1]] = call[2];
        return observer.breakerChanged?.(call[1], call[2]);
      case 'fellBack':
        return observer.fellBack?.(call[1], call[2]);
      case 'rateLimited':
        return observer.rateLimited?.(call[1], call[2]);
    }
  };

  const onMessage = (message: FromDeliveryThread) => {
    if (message.type === 'observed') message.calls.forEach(replay);
    else if (message.type === 'log') writeLog(message.text);
    else if (message.type === 'writes') countWaiters.shift()?.(message.count);
    else {
      const waiter = waiting;
      waiting = null;
      waiter?.resolve(message);
    }
  };

  const onExit = (code: number) => {
    const reason = threadError ? `failed: ${threadError.message}` : `exited (${code})`;
    const error = new HookrelayError('HOOKRELAY_INTERNAL', `the delivery thread ${reason}`, { cause: threadError ?? undefined });
    const waiter = waiting;
    waiting = null;
    waiter?.reject(error);
    // The counts of a thread that is gone are gone with it.
    for (const counted of countWaiters.splice(0)) counted(0);
    if (ending || !started) return;
    died = error;
    log.fatal({ err: error }, 'the delivery thread died: deliveries stop until the relay restarts');
    onDied(error);
  };

  return {
    async start() {
      let storePort = null;
      if (config.storage.kind === 'sqlite') {
        if (!store.connectThread) throw new HookrelayError('HOOKRELAY_INTERNAL', 'this SQLite store cannot be shared with the delivery thread');
        storePort = await store.connectThread();
      }
      const workerData: DeliveryWorkerData = { config, storePort };
      worker = new Worker(threadScript('./delivery-worker.js', import.meta.url), { workerData, transferList: storePort ? [storePort] : [] });
      worker.on('message', onMessage);
      worker.on('error', (error) => (threadError ??= error));
      worker.on('exit', onExit);
      let reply: Reply;
      try {
        reply = await nextReply();
      } catch (error) {
        ending = true;
        throw error;
      }
      if (reply.type !== 'started') {
        ending = true;
        await worker.terminate();
        throw 'error' in reply ? toError(reply.error) : new HookrelayError('HOOKRELAY_INTERNAL', `the delivery thread answered ${reply.type} to start`);
      }
      started = true;
    },

    wake(destinations) {
      if (!worker || ending || died) return;
      if (destinations) for (const destination of destinations) toWake.add(destination);
      else wakeAll = true;
      if (!wakeScheduled) {
        wakeScheduled = true;
        setImmediate(sendWakes);
      }
    },

    stop(graceMs) {
      return (stopping ??= (async () => {
        const running = worker;
        if (!running || died || ending) return;
        ending = true;
        const stopped = nextReply();
        post({ type: 'stop', graceMs });
        try {
          const reply = await stopped;
          if (reply.type === 'stopFailed') throw toError(reply.error);
        } catch (error) {
          // The thread ended half-way: its claims return when their leases expire (or at the next start on SQLite).
          log.error({ err: error }, 'the delivery thread did not stop cleanly');
        } finally {
          await running.terminate();
        }
      })());
    },

    breakerStates() {
      return { ...breakers };
    },

    ownWriteTransactions() {
      if (config.storage.kind === 'sqlite' || !worker || !started || ending || died) return Promise.resolve(0);
      return new Promise((resolve) => {
        countWaiters.push(resolve);
        post({ type: 'countWrites' });
      });
    },
  };
}

/**
 * Writes the thread's log lines (JSON, one record per line) through the main logger's own
 * stream, one record per write: in order with the main thread's lines, flushed with them, and
 * formatted as they are (LOG_FORMAT=pretty formats each record it is given); process.stdout
 * when the logger has none.
 */
function logWriter(logger: Logger): (text: string) => void {
  const stream = (logger as unknown as Record<symbol, { write?(text: string): unknown } | undefined>)[symbols.streamSym];
  const write = stream?.write ? (line: string) => void stream.write!(line) : (line: string) => void process.stdout.write(line);
  return (text) => {
    for (const line of text.split('\n')) if (line !== '') write(`${line}\n`);
  };
}
