import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { HookrelayError } from '../../errors.js';

/**
 * One `serve` process per SQLite database: its deliveries' leases belong to it alone, so
 * at start-up every in-flight row can be released at once instead of waiting for leases to
 * expire. The lock is a file beside the database naming the owner's pid and host; the owner
 * touches it every few seconds. A lock whose process is gone (same host) or that has not been
 * touched for FOREIGN_LOCK_STALE_MS (another host sharing the volume) is taken over.
 */
const HEARTBEAT_MS = 2_000;
const FOREIGN_LOCK_STALE_MS = 10_000;

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
      const heartbeat = setInterval(() => {
        try {
          const now = new Date();
          utimesSync(path, now, now);
        } catch {
          // The next start-up decides from the pid; a missed touch only matters across hosts.
        }
      }, HEARTBEAT_MS);
      heartbeat.unref();
      return {
        release: () => {
          clearInterval(heartbeat);
          releaseIfOurs(path);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder && isAlive(holder, path)) {
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

function isAlive(holder: { pid: number; host: string }, path: string): boolean {
  if (holder.host !== hostname()) {
    try {
      return Date.now() - statSync(path).mtimeMs < FOREIGN_LOCK_STALE_MS;
    } catch {
      return false;
    }
  }
  if (holder.pid === process.pid) return false;
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
