import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../../config/load.js';
import type { AttemptOutcome } from '../../glossary.js';
import type { SerializedError } from '../../store/sqlite/worker-protocol.js';
import type { BreakerState } from '../observer.js';

/** What the delivery thread starts with (a structured clone: plain data and a transferred port). */
export interface DeliveryWorkerData {
  /** The config resolved by the main thread (never read again from the file). */
  config: Config;
  /** SQLite: a port to the store's writer thread. PostgreSQL: null (the thread opens its own pool). */
  storePort: MessagePort | null;
}

/** One DeliveryObserver call, as it crosses to the main thread (where the metrics live). */
export type ObservedCall =
  | ['attempted', destination: string, outcome: AttemptOutcome, durationSeconds: number]
  | ['breakerChanged', destination: string, state: BreakerState]
  | ['fellBack', from: string, to: string]
  | ['rateLimited', destination: string, waitedSeconds: number];

/** Main thread -> delivery thread. `wake` with null destinations wakes every lane. */
export type ToDeliveryThread =
  | { type: 'wake'; destinations: string[] | null }
  | { type: 'stop'; graceMs: number }
  /** How many write transactions has the thread's own store (PostgreSQL) begun? */
  | { type: 'countWrites' };

/** Delivery thread -> main thread. */
export type FromDeliveryThread =
  | { type: 'started' }
  | { type: 'startFailed'; error: SerializedError }
  /** The observer calls of one event-loop turn, in order. */
  | { type: 'observed'; calls: ObservedCall[] }
  /** Log lines (pino JSON) written in one turn: the main thread writes them to its own log stream. */
  | { type: 'log'; text: string }
  /** The answer to `countWrites`. */
  | { type: 'writes'; count: number }
  | { type: 'stopped' }
  | { type: 'stopFailed'; error: SerializedError };
