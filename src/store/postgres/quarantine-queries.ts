import type { Pool } from 'pg';
import { newId } from '../../ids.js';
import { QUARANTINE_SUMMARY_COLUMNS, quarantineSize, toQuarantined, toQuarantinedSummary, type QuarantineRow } from '../quarantine-rows.js';
import type { NewQuarantined, QuarantineLimits, QuarantineStore } from '../store.js';
import type { Tables } from './sql.js';
import { inTransaction, queryRows, writeRows } from './transaction.js';

/** The PostgreSQL side of the quarantine: keep (bounded), list, read, remove, count. */
export function createQuarantineQueries(pool: Pool, t: Tables): QuarantineStore {
  return {
    async quarantine(entry: NewQuarantined, limits: QuarantineLimits, now: number): Promise<void> {
      const { headers, size } = quarantineSize(entry);
      await inTransaction(pool, 'quarantine the callback', async (client) => {
        // One source's bound at a time, whatever the number of processes.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hookrelay-quarantine:${entry.source}`]);
        await client.query(
          `INSERT INTO ${t.quarantine} (id, source, reason, headers, body, size, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [newId('qtn'), entry.source, entry.reason, headers, entry.body, size, entry.receivedAt],
        );
        await client.query(`DELETE FROM ${t.quarantine} WHERE source = $1 AND received_at < $2`, [entry.source, now - limits.maxAgeMs]);
        // Newest first, a running total: everything past the bound goes.
        await client.query(
          `DELETE FROM ${t.quarantine} WHERE id IN (
             SELECT id FROM (SELECT id, sum(size) OVER (ORDER BY id DESC) AS held FROM ${t.quarantine} WHERE source = $1) AS ranked
              WHERE held > $2)`,
          [entry.source, limits.maxBytes],
        );
      });
    },
    async listQuarantined(filter: { source?: string }) {
      const rows = await queryRows<QuarantineRow>(
        pool,
        'list the quarantine',
        `SELECT ${QUARANTINE_SUMMARY_COLUMNS} FROM ${t.quarantine} WHERE ($1::text IS NULL OR source = $1) ORDER BY id DESC`,
        [filter.source ?? null],
      );
      return rows.map(toQuarantinedSummary);
    },
    async getQuarantined(id: string) {
      const [row] = await queryRows<QuarantineRow>(
        pool,
        'read the quarantine',
        `SELECT id, source, reason, headers, body, size, received_at FROM ${t.quarantine} WHERE id = $1`,
        [id],
      );
      return row ? toQuarantined(row) : null;
    },
    async removeQuarantined(ids: readonly string[]): Promise<number> {
      const rows = await writeRows<{ id: string }>(pool, 'release from the quarantine', `DELETE FROM ${t.quarantine} WHERE id = ANY($1::text[]) RETURNING id`, [ids]);
      return rows.length;
    },
    async pruneQuarantined(source: string, before: number): Promise<number> {
      const rows = await writeRows<{ id: string }>(pool, 'prune the quarantine', `DELETE FROM ${t.quarantine} WHERE source = $1 AND received_at < $2 RETURNING id`, [source, before]);
      return rows.length;
    },
    async quarantineCounts(): Promise<Record<string, number>> {
      const rows = await queryRows<{ source: string; n: number | string }>(pool, 'count the quarantine', `SELECT source, count(*) AS n FROM ${t.quarantine} GROUP BY source`);
      return Object.fromEntries(rows.map((row) => [row.source, Number(row.n)]));
    },
  };
}
