import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * What this disk allows right now (the reference figures): single-row commits/s and
 * rows/s when 64 rows share a commit, WAL + synchronous=FULL, ~1 KB rows, in `dir`.
 * The machine is shared, so this is printed beside the figures it explains.
 */
export function probeDisk(dir, seconds = 1.5) {
  const path = join(dir, 'disk-probe.db');
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const body = Buffer.alloc(1024, 120);
    const many = db.transaction((count) => {
      for (let index = 0; index < count; index++) insert.run(body);
    });
    const rate = (step, rows) => {
      const started = performance.now();
      let done = 0;
      while (performance.now() - started < seconds * 1000) {
        step();
        done += rows;
      }
      return Math.round(done / ((performance.now() - started) / 1000));
    };
    return {
      singleRowFullCommitsPerSecond: rate(() => insert.run(body), 1),
      rowsPerSecondAt64PerFullCommit: rate(() => many(64), 64),
    };
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
}
