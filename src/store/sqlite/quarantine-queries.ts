import type { Database } from 'better-sqlite3';
import { newId } from '../../ids.js';
import { QUARANTINE_SUMMARY_COLUMNS, quarantineSize, toQuarantined, toQuarantinedSummary, type QuarantineRow } from '../quarantine-rows.js';
import type { NewQuarantined, QuarantineLimits, QuarantineStore } from '../store.js';
import type { GuardedWrite } from './guarded-write.js';

/** The SQLite side of the quarantine: keep (bounded), list, read, remove, count; writes run through `write`. */
export function createQuarantineQueries(db: Database, write: GuardedWrite): QuarantineStore {
  const insert = db.prepare('INSERT INTO quarantine (id, source, reason, headers, body, size, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const pruneOld = db.prepare('DELETE FROM quarantine WHERE source = ? AND received_at < ?');
  const held = db.prepare('SELECT coalesce(sum(size), 0) FROM quarantine WHERE source = ?').pluck();
  const oldest = db.prepare('SELECT id, size FROM quarantine WHERE source = ? ORDER BY id LIMIT 100');
  const remove = db.prepare('DELETE FROM quarantine WHERE id = ?');
  const get = db.prepare('SELECT id, source, reason, headers, body, size, received_at FROM quarantine WHERE id = ?');
  const counts = db.prepare('SELECT source, count(*) AS n FROM quarantine GROUP BY source');

  const keep = db.transaction((entry: NewQuarantined, limits: QuarantineLimits, now: number) => {
    const { headers, size } = quarantineSize(entry);
    // From the store thread the body arrives as a plain Uint8Array; SQLite binds Buffers.
    const bytes: Uint8Array = entry.body;
    const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    insert.run(newId('qtn'), entry.source, entry.reason, headers, body, size, entry.receivedAt);
    pruneOld.run(entry.source, now - limits.maxAgeMs);
    let total = held.get(entry.source) as number;
    while (total > limits.maxBytes) {
      const rows = oldest.all(entry.source) as { id: string; size: number }[];
      if (rows.length === 0) break;
      for (const row of rows) {
        if (total <= limits.maxBytes) break;
        remove.run(row.id);
        total -= row.size;
      }
    }
  });

  const removeAll = db.transaction((ids: readonly string[]) => ids.reduce((removed, id) => removed + remove.run(id).changes, 0));

  return {
    quarantine: async (entry, limits, now) => write('quarantine the callback', () => keep.immediate(entry, limits, now)),
    async listQuarantined(filter) {
      const rows = (
        filter.source === undefined
          ? db.prepare(`SELECT ${QUARANTINE_SUMMARY_COLUMNS} FROM quarantine ORDER BY id DESC`).all()
          : db.prepare(`SELECT ${QUARANTINE_SUMMARY_COLUMNS} FROM quarantine WHERE source = ? ORDER BY id DESC`).all(filter.source)
      ) as QuarantineRow[];
      return rows.map(toQuarantinedSummary);
    },
    async getQuarantined(id) {
      const row = get.get(id) as QuarantineRow | undefined;
      return row ? toQuarantined(row) : null;
    },
    pruneQuarantined: async (source, before) => write('prune the quarantine', () => pruneOld.run(source, before).changes),
    removeQuarantined: async (ids) => write('release from the quarantine', () => removeAll(ids)),
    async quarantineCounts() {
      return Object.fromEntries((counts.all() as { source: string; n: number }[]).map((row) => [row.source, row.n]));
    },
  };
}
