import { closeSync, fstatSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { HookrelayError } from '../../errors.js';
import { identityAt, sameFile, type DatabaseLocation, type FileIdentity } from './database-files.js';

/**
 * One `serve` process per SQLite database: its deliveries' leases belong to it alone, so
 * at start-up every in-flight row can be released at once instead of waiting for leases to
 * expire. The lock is a file beside the database's real path (symlinks and `..` resolved, so
 * every spelling of one database meets the same lock) naming the owner's pid and host and the
 * database file's device and inode; the owner touches it every few seconds. A lock whose
 * process is gone (same host) or that has not been touched for FOREIGN_LOCK_STALE_MS (another
 * host sharing the volume) is taken over. A live holder that names another file (the database
 * was replaced under it) is not: it still has the -wal and -shm at this path open, and a second
 * process on them would read its pages into the new database.
 */
const HEARTBEAT_MS = 2_000;
const FOREIGN_LOCK_STALE_MS = 10_000;

export interface ProcessLock {
  /** The lock file as created: the store checks it stays in place (its loss would admit a second serve). */
  readonly file: { path: string; identity: FileIdentity };
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  /** The database file's identity as the holder opened it (absent in locks of earlier versions). */
  database: FileIdentity | null;
}

export function acquireProcessLock(database: DatabaseLocation): ProcessLock {
  const path = `${database.real}.serve.lock`;
  const identity = databaseIdentity(database);
  const content = JSON.stringify({
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    database: database.real,
    dev: String(identity.dev),
    ino: String(identity.ino),
  });
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      let file: ProcessLock['file'];
      try {
        writeSync(fd, content);
        const stats = fstatSync(fd, { bigint: true });
        file = { path, identity: { dev: stats.dev, ino: stats.ino } };
      } finally {
        closeSync(fd);
      }
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
        file,
        release: () => {
          clearInterval(heartbeat);
          releaseIfOurs(file);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder && isAlive(holder, path)) {
        throw new HookrelayError(
          'HOOKRELAY_STORE_LOCKED',
          holdsSameDatabase(holder, identity)
            ? `another serve process (pid ${holder.pid}) is running on ${database.real}; SQLite allows one (use storage.postgres for several)`
            : `another serve process (pid ${holder.pid}) still has the database that was at ${database.real} before it was replaced open, ` +
              'with the -wal and -shm files beside it; stop it before starting serve on the new file',
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

/** The database file's identity, creating the (empty) file first so the lock can name it from the start. */
function databaseIdentity(database: DatabaseLocation): FileIdentity {
  try {
    closeSync(openSync(database.real, 'wx', 0o644));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage cannot open ${database.real}: ${(error as NodeJS.ErrnoException).code ?? error}`, { cause: error });
    }
  }
  const identity = identityAt(database.real);
  if (typeof identity === 'string') throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage cannot open ${database.real}: ${identity}`);
  return identity;
}

function readHolder(path: string): Holder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; host?: unknown; dev?: unknown; ino?: unknown };
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
    const database = typeof parsed.dev === 'string' && typeof parsed.ino === 'string' ? toIdentity(parsed.dev, parsed.ino) : null;
    return { pid: parsed.pid, host: parsed.host, database };
  } catch {
    return null;
  }
}

function toIdentity(dev: string, ino: string): FileIdentity | null {
  try {
    return { dev: BigInt(dev), ino: BigInt(ino) };
  } catch {
    return null;
  }
}

/**
 * Device numbers are only comparable on one host (a shared volume has another on each), so a
 * foreign host's lock is judged by its heartbeat alone.
 */
function holdsSameDatabase(holder: Holder, ours: FileIdentity): boolean {
  if (holder.host !== hostname() || holder.database === null) return true;
  return sameFile(holder.database, ours);
}

function isAlive(holder: Holder, path: string): boolean {
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

/** Removes the lock only if it is still the file this process created (not one a successor took). */
function releaseIfOurs(file: ProcessLock['file']): void {
  const now = identityAt(file.path);
  const holder = readHolder(file.path);
  if (typeof now === 'string' || !sameFile(now, file.identity)) return;
  if (holder && holder.pid === process.pid && holder.host === hostname()) {
    try {
      unlinkSync(file.path);
    } catch {
      // Already gone.
    }
  }
}
