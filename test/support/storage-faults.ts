import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Ways to make a running relay's database unwritable, and to clear the fault again.
 * `disk full` prefers the real thing (ENOSPC on a small tmpfs mounted for the test, which
 * needs root); without mount rights it lowers the relay's RLIMIT_FSIZE with prlimit, so
 * appending to the WAL fails with EFBIG. Both are write failures SQLite reports on commit.
 */
export interface DiskFull {
  /** How the fault is made: 'tmpfs-enospc' or 'rlimit-fsize'. */
  readonly how: string;
  /** Folder the database must live in. */
  readonly dir: string;
  /** Makes further growth impossible for the relay with this pid. */
  fill(pid: number): void;
  clear(pid: number): void;
  dispose(): void;
}

export function prepareDiskFull(parent: string, sizeBytes = 8 * 1024 * 1024): DiskFull {
  const dir = join(parent, 'small-fs');
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0777`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    return fileSizeLimit(dir);
  }
  const filler = join(dir, 'filler');
  return {
    how: 'tmpfs-enospc',
    dir,
    fill: () => {
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
      // Fill the last partial block as well.
      try {
        for (;;) writeSync(fd, chunk, 0, 512);
      } catch {
        // Full to the byte.
      } finally {
        closeSync(fd);
      }
    },
    clear: () => rmSync(filler, { force: true }),
    dispose: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } catch {
        // Already unmounted.
      }
    },
  };
}

function fileSizeLimit(dir: string): DiskFull {
  return {
    how: 'rlimit-fsize',
    dir,
    fill: (pid) => {
      // The largest file now: growing any file past it fails (WAL appends first).
      const sizes = ['hookrelay.db', 'hookrelay.db-wal'].map((name) => {
        try {
          return statSync(join(dir, name)).size;
        } catch {
          return 0;
        }
      });
      execFileSync('prlimit', ['--pid', String(pid), `--fsize=${Math.max(...sizes)}:unlimited`], { stdio: 'pipe' });
    },
    clear: (pid) => {
      execFileSync('prlimit', ['--pid', String(pid), '--fsize=unlimited:unlimited'], { stdio: 'pipe' });
    },
    dispose: () => undefined,
  };
}
