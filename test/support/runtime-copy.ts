import { accessSync, chmodSync, constants, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';

/**
 * What `hookrelay serve` needs at run time (package.json, dist/, the production node_modules),
 * copied to a world-readable temp folder, for tests that start the relay as another user: the
 * checkout may sit in a private folder (a home directory, `mktemp -d`) that user cannot enter.
 * Remove it with `cleanup`.
 */
export interface RuntimeCopy {
  /** dist/cli/main.js inside the copy. */
  cli: string;
  cleanup: () => void;
}

const ROOT = resolve(import.meta.dirname, '../..');

interface LockFile {
  packages: Record<string, { dev?: boolean }>;
}

/** node_modules/<name> folders the lock file marks as production (outermost only: a copy takes their nested ones too). */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as LockFile;
  const paths = Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev)
    .map(([path]) => path)
    .sort();
  return paths.filter((path, index) => !paths.slice(0, index).some((outer) => path.startsWith(`${outer}/`)));
}

/** Gives everyone read (and, on folders and executables, enter/run) permission, like `chmod -R a+rX`. */
function makeReadable(path: string): void {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return;
  const searchable = stats.isDirectory() || (stats.mode & 0o111) !== 0;
  chmodSync(path, stats.mode | 0o444 | (searchable ? 0o111 : 0));
  if (stats.isDirectory()) for (const entry of readdirSync(path)) makeReadable(join(path, entry));
}

/** Fails with the folder to fix when another user could not reach `path` (a folder on the way lacks o+x). */
function assertOthersCanReach(path: string, what: string): void {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(`${what} (${path}) is under ${dir}, which other users cannot enter (mode ${(statSync(dir).mode & 0o777).toString(8)}): run the tests with a node binary and TMPDIR outside private folders`);
    }
    if (dir === parse(dir).root) return;
  }
}

export function copyRuntimeForOtherUsers(): RuntimeCopy {
  const cli = join(ROOT, 'dist/cli/main.js');
  accessSync(cli, constants.R_OK);
  assertOthersCanReach(process.execPath, 'the node binary');
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-runtime-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    assertOthersCanReach(dir, 'the temp folder');
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    for (const path of productionPackages()) {
      if (!existsSync(join(ROOT, path))) continue; // optional dependencies for other platforms
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      cpSync(join(ROOT, path), join(dir, path), { recursive: true });
    }
    makeReadable(dir);
  } catch (error) {
    cleanup();
    throw error;
  }
  return { cli: join(dir, 'dist/cli/main.js'), cleanup };
}
