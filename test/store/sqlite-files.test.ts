import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
import type { NewEvent } from '../../src/glossary.js';
import { identityAt, locateDatabase, watchDatabaseFiles, type FileIdentity } from '../../src/store/sqlite/database-files.js';
import { acquireProcessLock } from '../../src/store/sqlite/process-lock.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../support/temp.js';

/**
 * The SQLite store on real files: a commit is refused once the files a restart would open are
 * no longer the ones it writes, and the serve lock meets every spelling of one database.
 */
const event = (key: string): NewEvent => ({
  source: 'cerebrium',
  dedupeKey: key,
  contentType: 'application/json',
  contentEncoding: null,
  body: Buffer.from(JSON.stringify({ run_id: key })),
  destinations: ['app'],
});

describe('sqlite store: the files a restart would open', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  function folder(prefix: string): string {
    const dir = tempDir(prefix);
    cleanups.push(dir.cleanup);
    return dir.path;
  }

  /** `lock`: as serve opens it; without, as a CLI command does. */
  function open(path: string, lock: 'lock' | 'no lock' = 'lock'): Store {
    const store = openSqlite({ path, busyTimeoutMs: 500, lock: lock === 'lock', thread: 'inline' });
    cleanups.push(() => store.close().catch(() => undefined));
    return store;
  }

  async function refusal(store: Store, key: string): Promise<string> {
    const error = await store.ingest(event(key)).then(() => null, (caught: unknown) => caught);
    expect(isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE')).toBe(true);
    expect(await store.isWritable()).toBe(false);
    return (error as Error).message;
  }

  it('every spelling of one database resolves to one real path: symlinked folder, symlinked file, "..", a file not created yet', () => {
    const root = folder('hookrelay-locate-');
    mkdirSync(join(root, 'data'));
    symlinkSync(join(root, 'data'), join(root, 'link-to-data'));
    symlinkSync(join(root, 'data', 'x.db'), join(root, 'link-to-file.db'));
    const spellings = [join(root, 'data', 'x.db'), join(root, 'link-to-data', 'x.db'), `${root}/data/../data/x.db`, join(root, 'link-to-file.db')];
    // Before the file exists (a dangling symlink is followed to where the file will be) and after.
    const before = spellings.map((spelling) => locateDatabase(spelling).real);
    writeFileSync(join(root, 'data', 'x.db'), '');
    const after = spellings.map((spelling) => locateDatabase(spelling).real);
    const real = locateDatabase(join(root, 'data', 'x.db')).real;
    expect(new Set([...before, ...after])).toEqual(new Set([real]));
    expect(real.endsWith(join('data', 'x.db'))).toBe(true);
  });

  it('the folder removed while serving: the commit is refused and /readyz says so; the same files back in place: accepted again', async () => {
    const root = folder('hookrelay-removed-');
    const store = open(join(root, 'data', 'hookrelay.db'));
    expect((await store.ingest(event('before'))).duplicate).toBe(false);
    expect(await store.isWritable()).toBe(true);

    renameSync(join(root, 'data'), join(root, 'moved'));
    expect(await refusal(store, 'during')).toMatch(/hookrelay\.db was removed since the store opened it/);
    // A new, empty folder at the path is not the database either.
    mkdirSync(join(root, 'data'));
    expect(await refusal(store, 'during')).toMatch(/was removed/);

    rmSync(join(root, 'data'), { recursive: true });
    renameSync(join(root, 'moved'), join(root, 'data'));
    expect(await store.isWritable()).toBe(true);
    // Refused before anything was written: the sender's retry is a new event.
    expect((await store.ingest(event('during'))).duplicate).toBe(false);
    await store.close();
    const reopened = open(join(root, 'data', 'hookrelay.db'), 'no lock');
    expect((await reopened.findEvents({ limit: 10 })).map((found) => found.dedupeKey)).toEqual(['during', 'before']);
  });

  it('the folder deleted (rm -rf) while serving: refused, naming what went', async () => {
    const root = folder('hookrelay-rmrf-');
    const store = open(join(root, 'data', 'hookrelay.db'));
    await store.ingest(event('before'));
    rmSync(join(root, 'data'), { recursive: true, force: true });
    expect(await refusal(store, 'during')).toMatch(/the database file \S+hookrelay\.db was removed/);
  });

  it('the database file replaced by another database (mv over it): refused', async () => {
    const root = folder('hookrelay-replaced-');
    const path = join(root, 'hookrelay.db');
    const other = join(root, 'other', 'hookrelay.db');
    const otherStore = open(other, 'no lock');
    await otherStore.ingest(event('other'));
    await otherStore.close();
    const store = open(path);
    await store.ingest(event('before'));
    renameSync(other, path);
    expect(await refusal(store, 'during')).toMatch(/the database file \S+hookrelay\.db was replaced by another file/);
    // Our WAL, still at the path, was emptied: the next open of the replacement reads none of our pages.
    expect(statSync(`${path}-wal`).size).toBe(0);
    await store.close();
    const replacement = open(path, 'no lock');
    expect((await replacement.findEvents({ limit: 10 })).map((found) => found.dedupeKey)).toEqual(['other']);
  });

  it('the write-ahead log removed or replaced: refused (a commit in an unlinked WAL is lost to a restart)', async () => {
    const root = folder('hookrelay-wal-');
    const path = join(root, 'hookrelay.db');
    const store = open(path);
    await store.ingest(event('before'));
    copyFileSync(`${path}-wal`, join(root, 'wal-copy'));
    unlinkSync(`${path}-wal`);
    expect(await refusal(store, 'during')).toMatch(/the write-ahead log \S+hookrelay\.db-wal was removed/);
    renameSync(join(root, 'wal-copy'), `${path}-wal`);
    expect(await refusal(store, 'during')).toMatch(/the write-ahead log \S+ was replaced by another file/);
  });

  it('reached through a symlink that is re-pointed to another database: refused', async () => {
    const root = folder('hookrelay-repointed-');
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    symlinkSync(join(root, 'a'), join(root, 'current'));
    const other = open(join(root, 'b', 'hookrelay.db'), 'no lock');
    await other.close();
    const store = open(join(root, 'current', 'hookrelay.db'));
    await store.ingest(event('before'));
    unlinkSync(join(root, 'current'));
    symlinkSync(join(root, 'b'), join(root, 'current'));
    expect(await refusal(store, 'during')).toMatch(/current\/hookrelay\.db was replaced by another file/);
  });

  it('the serve lock removed while serving: refused (a second serve could start)', async () => {
    const root = folder('hookrelay-lockgone-');
    const path = join(root, 'hookrelay.db');
    const store = open(path);
    await store.ingest(event('before'));
    unlinkSync(`${path}.serve.lock`);
    expect(await refusal(store, 'during')).toMatch(/the serve lock \S+hookrelay\.db\.serve\.lock was removed/);
  });

  it('a file that becomes unwritable is reported by the check (EROFS under root on a re-mounted file system, else EACCES)', () => {
    const root = folder('hookrelay-unwritable-');
    const mounted = join(root, 'fs');
    mkdirSync(mounted);
    let readOnly: () => void;
    let expected: string;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mounted], { stdio: 'pipe' });
      cleanups.push(() => execFileSync('umount', ['-l', mounted], { stdio: 'pipe' }));
      // Root writes through any file mode; only a read-only file system stops it.
      readOnly = () => execFileSync('mount', ['-o', 'remount,ro', mounted], { stdio: 'pipe' });
      expected = 'EROFS';
    } catch {
      readOnly = () => chmodSync(join(mounted, 'hookrelay.db'), 0o444);
      expected = 'EACCES';
    }
    const location = locateDatabase(join(mounted, 'hookrelay.db'));
    for (const suffix of ['', '-wal', '-shm']) writeFileSync(`${location.real}${suffix}`, '');
    const check = watchDatabaseFiles(location, null);
    expect(check.problem()).toBeNull();
    readOnly();
    expect(check.problem()).toMatch(new RegExp(`hookrelay\\.db is not writable \\(${expected}\\)`));
    expect(() => check.assertIntact('commit the event')).toThrow(/storage cannot commit the event: .* is not writable/);
    // Writes are not stopped for it (SQLite reports its own failure; a write through the open file harms nothing).
    expect(() => check.assertInPlace('claim deliveries')).not.toThrow();
  });
});

describe('sqlite serve lock: keyed by the real path and the database identity', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  /** A live process that is not this one: a lock naming its pid is held. */
  async function otherProcess(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    cleanups.push(() => child.kill('SIGKILL'));
    await new Promise((resolve) => child.once('spawn', resolve));
    return child;
  }

  function lockBy(lockPath: string, pid: number, database: FileIdentity | null): void {
    const identity = database ? { dev: String(database.dev), ino: String(database.ino) } : {};
    writeFileSync(lockPath, JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString(), ...identity }));
  }

  function setUp(): { root: string; path: string; lockPath: string; identity: FileIdentity } {
    const dir = tempDir('hookrelay-lock-');
    cleanups.push(dir.cleanup);
    const path = join(dir.path, 'data', 'hookrelay.db');
    const location = locateDatabase(path);
    writeFileSync(location.real, '');
    return { root: dir.path, path, lockPath: `${location.real}.serve.lock`, identity: identityAt(location.real) as FileIdentity };
  }

  it('the lock sits beside the real path and names the database file by device and inode', () => {
    const { root, lockPath, identity } = setUp();
    const lock = acquireProcessLock(locateDatabase(`${root}/data/../data/hookrelay.db`));
    cleanups.push(() => lock.release());
    const content = JSON.parse(readFileSync(lockPath, 'utf8')) as Record<string, unknown>;
    expect(content).toMatchObject({ pid: process.pid, host: hostname(), dev: String(identity.dev), ino: String(identity.ino) });
    expect(lock.file.path).toBe(lockPath);
    lock.release();
    expect(identityAt(lockPath)).toBe('ENOENT');
  });

  it('a live holder of the same database refuses; so does a live holder whose lock predates identities', async () => {
    const { path, lockPath, identity } = setUp();
    const holder = await otherProcess();
    for (const named of [identity, null]) {
      lockBy(lockPath, holder.pid!, named);
      let error: unknown;
      try {
        acquireProcessLock(locateDatabase(path)).release();
      } catch (caught) {
        error = caught;
      }
      expect(isHookrelayError(error, 'HOOKRELAY_STORE_LOCKED')).toBe(true);
      expect((error as Error).message).toContain(`pid ${holder.pid}`);
    }
  });

  it('a live holder that names another database file (this one was replaced under it) still refuses: it has the -wal and -shm open', async () => {
    const { path, lockPath, identity } = setUp();
    const holder = await otherProcess();
    lockBy(lockPath, holder.pid!, { dev: identity.dev, ino: identity.ino + 1n });
    const error = (() => {
      try {
        acquireProcessLock(locateDatabase(path)).release();
        return null;
      } catch (caught) {
        return caught;
      }
    })();
    expect(isHookrelayError(error, 'HOOKRELAY_STORE_LOCKED')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`pid ${holder.pid}\\) still has the database that was at \\S+ before it was replaced open`));
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: holder.pid });
  });

  it('a holder that is gone is taken over, and release leaves a successor\'s lock alone', async () => {
    const { path, lockPath, identity } = setUp();
    const gone = await otherProcess();
    const exited = new Promise((resolve) => gone.once('exit', resolve));
    gone.kill('SIGKILL');
    await exited;
    lockBy(lockPath, gone.pid!, identity);
    const lock = acquireProcessLock(locateDatabase(path));
    // A successor replaced the lock file (this process was judged to hold another database).
    unlinkSync(lockPath);
    lockBy(lockPath, gone.pid!, identity);
    lock.release();
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: gone.pid });
  });
});
