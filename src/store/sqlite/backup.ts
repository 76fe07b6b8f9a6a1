import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import DatabaseConstructor from 'better-sqlite3';
import { HookrelayError } from '../../errors.js';

/**
 * Copies the SQLite database at `path` to `destination` with SQLite's online backup API: a
 * consistent snapshot (committed transactions only) taken while `serve` keeps writing, with
 * no `sqlite3` binary needed (the image has none). Refuses to overwrite a file.
 */
export async function backupSqliteDatabase(path: string, destination: string, busyTimeoutMs: number): Promise<{ path: string; bytes: number }> {
  const source = resolve(path);
  const target = resolve(destination);
  if (!existsSync(source)) throw new HookrelayError('HOOKRELAY_DATABASE_NOT_FOUND', `no database at ${source}`);
  if (existsSync(target)) throw new HookrelayError('HOOKRELAY_USAGE', `${target} exists: back up to a new file`);
  mkdirSync(dirname(target), { recursive: true });
  const db = new DatabaseConstructor(source, { fileMustExist: true, timeout: busyTimeoutMs });
  try {
    const progress = await db.backup(target);
    return { path: target, bytes: progress.totalPages * (db.pragma('page_size', { simple: true }) as number) };
  } catch (error) {
    throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `backup to ${target} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    db.close();
  }
}
