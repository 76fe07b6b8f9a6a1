import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { HookrelayError } from '../../errors.js';

/**
 * One `serve` process per SQLite database: its deliveries' leases belong to it alone, so
 * at start-up every in-flight row can be released at once instead of waiting for leases to
 * expire. The lock is a file beside the database naming the owner's pid and host; a lock
 * whose process is gone is taken over.
 */
export interface ProcessLock {
  release(): void;
}

export function acquireProcessLock(databasePath: string): ProcessLock {
  const path = `${databasePath}.serve.lock`;
  const content = JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() });
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, content);
      closeSync(fd);
      return { release: () => releaseIfOurs(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder && isAlive(holder)) {
        throw new HookrelayError(
          'HOOKRELAY_STORE_LOCKED',
          `another serve process (pid ${holder.pid}) is running on ${databasePath}; SQLite allows one (use storage.postgres for several)`,
        );
      }
      try {
        unlinkSync(path);
      } catch {
        // Another starter removed it first; try again.
      }
    }
  }
  throw new HookrelayError('HOOKRELAY_STORE_LOCKED', `cannot take the serve lock ${path}`);
}

function readHolder(path: string): { pid: number; host: string } | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; host?: unknown };
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? { pid: parsed.pid, host: parsed.host } : null;
  } catch {
    return null;
  }
}

function isAlive(holder: { pid: number; host: string }): boolean {
  if (holder.host !== hostname() || holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseIfOurs(path: string): void {
  const holder = readHolder(path);
  if (holder && holder.pid === process.pid && holder.host === hostname()) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
}
