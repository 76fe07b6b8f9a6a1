import { accessSync, constants, mkdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { HookrelayError } from '../../errors.js';

/**
 * A commit is only worth a 2xx if the next start-up will find it. SQLite keeps writing to the
 * files it opened even after they are unlinked (`rm -rf` of the folder), replaced (`mv` of
 * another database over them) or reached through a symlink that now points elsewhere; a
 * restart would then open other files. So the store records, at open, the identity (device
 * and inode) of every file a restart depends on. After each group commit and in `isWritable()`
 * (`/readyz`) it checks that the path still leads to them and that they can be written; before
 * every write, that they are still in place (no write at all goes into files a successor at
 * the path may share).
 */

/** A file's identity: the same device and inode is the same file, whatever the path. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

/** Where a database lives: the path as configured (absolute) and with every symlink and `..` resolved. */
export interface DatabaseLocation {
  configured: string;
  real: string;
}

/**
 * Resolves the database's real path, creating its folder. When the file does not exist yet:
 * the real folder and the file name (a dangling symlink is followed to where SQLite will create
 * the file), so every spelling of one database gives one real path.
 */
export function locateDatabase(path: string): DatabaseLocation {
  const configured = resolve(path);
  mkdirSync(dirname(configured), { recursive: true });
  return { configured, real: realPathOf(configured) };
}

function realPathOf(path: string, hops = 0): string {
  try {
    return realpathSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const link = hops < 40 ? readLink(path) : null;
  if (link !== null) return realPathOf(resolve(dirname(path), link), hops + 1);
  return join(realpathSync(dirname(path)), basename(path));
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** The identity of the file at `path` (symlinks followed), or the errno code when it cannot be had. */
export function identityAt(path: string): FileIdentity | string {
  try {
    const stats = statSync(path, { bigint: true });
    return { dev: stats.dev, ino: stats.ino };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** A file the store depends on, as it was at open. */
export interface WatchedFile {
  /** Says what the file is, in the message when it changed: "the database file", "the serve lock". */
  role: string;
  path: string;
  identity: FileIdentity;
  /** Checked for write access too (the process may write it, the file system is not read-only). */
  mustBeWritable: boolean;
}

export interface DatabaseFilesCheck {
  /** What changed since open (for the log and the error), or null when every file is as it was. */
  problem(): string | null;
  /**
   * Before a write: throws HOOKRELAY_STORAGE_UNAVAILABLE when a file was removed or replaced
   * (writing on would append to files a successor at the path may share). The first time in
   * a row it finds that, it calls `onLost` (the store empties its WAL) before throwing.
   */
  assertInPlace(what: string): void;
  /** After a commit, and for readiness: as assertInPlace, and every file must also be writable. */
  assertIntact(what: string): void;
}

/**
 * Records the files of the database at `location` as they are now: the database file (through
 * its configured path, so a re-pointed symlink counts as a replacement), its folder, the -wal
 * and -shm files (a commit sits in the WAL until a checkpoint: an unlinked WAL loses it) and,
 * for `serve`, the lock file (its loss lets a second `serve` start).
 */
export function watchDatabaseFiles(
  location: DatabaseLocation,
  lockFile: { path: string; identity: FileIdentity } | null,
  onLost: () => void = () => undefined,
): DatabaseFilesCheck {
  const record = (role: string, path: string, mustBeWritable: boolean): WatchedFile => {
    const identity = identityAt(path);
    if (typeof identity === 'string') {
      throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage cannot open ${location.configured}: ${role} ${path} ${identity}`);
    }
    return { role, path, identity, mustBeWritable };
  };
  const files = [
    record('the database file', location.configured, false),
    record('the database file', location.real, true),
    record('the database folder', dirname(location.real), true),
    record('the write-ahead log', `${location.real}-wal`, true),
    record('the shared-memory index', `${location.real}-shm`, true),
  ];
  // Through a symlink the configured path is a second way to the same file; without one it is the same check twice.
  if (location.configured === location.real) files.shift();
  if (lockFile) files.push({ role: 'the serve lock', path: lockFile.path, identity: lockFile.identity, mustBeWritable: false });
  return createDatabaseFilesCheck(files, onLost);
}

const GONE = ' since the store opened it, so a restart would not find a commit (restart serve once the database is in place)';

/** Checks that each file is still at its path with its identity, and writable where required. */
export function createDatabaseFilesCheck(files: readonly WatchedFile[], onLost: () => void = () => undefined): DatabaseFilesCheck {
  let lost = false;
  const moved = (): string | null => {
    for (const file of files) {
      const now = identityAt(file.path);
      if (now === 'ENOENT' || now === 'ENOTDIR') return `${file.role} ${file.path} was removed${GONE}`;
      if (typeof now === 'string') return `${file.role} ${file.path} cannot be checked (${now})`;
      if (!sameFile(now, file.identity)) return `${file.role} ${file.path} was replaced by another file${GONE}`;
    }
    return null;
  };
  const unwritable = (): string | null => {
    for (const file of files) {
      if (!file.mustBeWritable) continue;
      try {
        // Root passes a permission check, but not a read-only file system (EROFS) or an immutable file.
        accessSync(file.path, constants.W_OK);
      } catch (error) {
        return `${file.role} ${file.path} is not writable (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`;
      }
    }
    return null;
  };
  const refuse = (what: string, found: string): never => {
    throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage cannot ${what}: ${found}`);
  };
  const assertInPlace = (what: string): void => {
    const found = moved();
    if (found === null) {
      lost = false;
      return;
    }
    if (!lost) {
      lost = true;
      onLost();
    }
    refuse(what, found);
  };
  return {
    problem: () => moved() ?? unwritable(),
    assertInPlace,
    assertIntact(what) {
      assertInPlace(what);
      const found = unwritable();
      if (found !== null) refuse(what, found);
    },
  };
}
