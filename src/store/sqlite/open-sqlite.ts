import type { Store } from '../store.js';
import { locateDatabase } from './database-files.js';
import { acquireProcessLock } from './process-lock.js';
import { openSqliteHere } from './sqlite-store.js';
import { openWorkerSqliteStore } from './worker-store.js';

export interface OpenSqliteOptions {
  /** The database file (its folder is created), or `:memory:`. */
  path: string;
  busyTimeoutMs: number;
  /**
   * Take the one-process lock on the database (`serve`): while it is held, another taker fails
   * with HOOKRELAY_STORE_LOCKED. CLI commands share the database without it.
   */
  lock: boolean;
  /**
   * `inline`: statements run on the calling thread (CLI commands, tests). `worker`: in a writer
   * thread and a reader thread, so commits never block the event loop (`serve`). A `:memory:`
   * database cannot be shared between threads: it is always inline.
   */
  thread: 'inline' | 'worker';
}

/**
 * Opens the SQLite adapter: the one way in, for `serve`, the CLI and tests alike. Inline, it
 * opens synchronously (and throws); with threads, it resolves once they have opened.
 */
export function openSqlite(options: OpenSqliteOptions & { thread: 'inline' }): Store;
export function openSqlite(options: OpenSqliteOptions): Store | Promise<Store>;
export function openSqlite(options: OpenSqliteOptions): Store | Promise<Store> {
  if (options.path === ':memory:') return openSqliteHere(':memory:', options.busyTimeoutMs, null);
  const location = locateDatabase(options.path);
  const lock = options.lock ? acquireProcessLock(location) : null;
  if (options.thread === 'inline') {
    try {
      return openSqliteHere(location, options.busyTimeoutMs, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }
  return openWorkerSqliteStore({ location, busyTimeoutMs: options.busyTimeoutMs, lock }).catch((error: unknown) => {
    lock?.release();
    throw error;
  });
}
