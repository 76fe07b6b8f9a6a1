import type { Pool, PoolClient } from 'pg';
import type { Attempt, Delivery, DeliveryStatus, StoredEvent } from '../../glossary.js';
import { newId } from '../../ids.js';
import { DELIVERY_COLUMNS, EVENT_COLUMNS, toAttempt, toDelivery, toStoredEvent, type AttemptRow, type DeliveryRow, type EventRow } from '../rows.js';
import {
  emptyStatusCounts,
  type AttemptBucket,
  type DeliveryFilter,
  type DeliveryPage,
  type EventFilter,
  type EventSummary,
  type ReplaySelector,
  type StoreStats,
} from '../store.js';
import type { Tables } from './sql.js';
import { inTransaction, queryRows } from './transaction.js';

/** The PostgreSQL side of the operator tools: reads, replay, redeliver, retention. */
export type OperatorQueries = ReturnType<typeof createOperatorQueries>;

/**
 * Announces, to every process LISTENing on the schema's channel, destinations that have
 * deliveries due now. Sent inside the transaction that made them due: PostgreSQL delivers
 * it only after COMMIT (and drops it on ROLLBACK).
 */
export async function notifyDue(client: PoolClient, t: Tables, destinations: readonly string[]): Promise<void> {
  const names = [...new Set(destinations)];
  if (names.length === 0) return;
  await client.query('SELECT pg_notify($1, $2)', [t.channel, JSON.stringify(names)]);
}

export function createOperatorQueries(pool: Pool, t: Tables) {
  const from = `${t.deliveries} d JOIN ${t.events} e ON e.id = d.event_id`;

  /** The WHERE clause of a replay selector, with `$n` placeholders appended to `params`. */
  const replayWhere = (selector: ReplaySelector, params: unknown[]): string => {
    const clauses = [`status = 'dead'`];
    if ('ids' in selector) {
      params.push(selector.ids);
      clauses.push(`id = ANY($${params.length}::text[])`);
    }
    if ('destination' in selector) {
      params.push(selector.destination);
      clauses.push(`destination = $${params.length}`);
    }
    if (selector.since !== undefined) {
      params.push(selector.since);
      clauses.push(`dead_at >= $${params.length}`);
    }
    return clauses.join(' AND ');
  };

  return {
    async stats(destinations: readonly string[]): Promise<StoreStats> {
      // One statement, so the event and delivery counts come from the same snapshot.
      const rows = await queryRows<{ destination: string | null; status: DeliveryStatus | null; n: number }>(
        pool,
        'read stats',
        `SELECT NULL AS destination, NULL AS status, count(*) AS n FROM ${t.events}
         UNION ALL
         SELECT destination, status, count(*) AS n FROM ${t.deliveries} GROUP BY status, destination`,
      );
      const stats: StoreStats = { events: 0, deliveries: emptyStatusCounts(), destinations: {} };
      for (const name of destinations) stats.destinations[name] = emptyStatusCounts();
      for (const row of rows) {
        if (row.status === null || row.destination === null) {
          stats.events = row.n;
          continue;
        }
        stats.deliveries[row.status] += row.n;
        (stats.destinations[row.destination] ??= emptyStatusCounts())[row.status] += row.n;
      }
      return stats;
    },

    async listDeliveries(filter: DeliveryFilter): Promise<DeliveryPage> {
      const clauses: string[] = [];
      const params: unknown[] = [];
      const add = (clause: (placeholder: string) => string, value: unknown) => {
        params.push(value);
        clauses.push(clause(`$${params.length}`));
      };
      if (filter.status) add((p) => `d.status = ${p}`, filter.status);
      if (filter.destination) add((p) => `d.destination = ${p}`, filter.destination);
      if (filter.source) add((p) => `d.source = ${p}`, filter.source);
      if (filter.since !== undefined) add((p) => (filter.status === 'dead' ? `d.dead_at >= ${p}` : `d.updated_at >= ${p}`), filter.since);
      if (filter.cursor) add((p) => `d.id < ${p}`, filter.cursor);
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      params.push(filter.limit + 1);
      const rows = await queryRows<DeliveryRow>(
        pool,
        'list deliveries',
        `SELECT ${DELIVERY_COLUMNS} FROM ${from} ${where} ORDER BY d.id DESC LIMIT $${params.length}`,
        params,
      );
      const page = rows.slice(0, filter.limit).map(toDelivery);
      return { deliveries: page, nextCursor: rows.length > filter.limit ? page[page.length - 1]!.id : null };
    },

    async getDelivery(id: string): Promise<Delivery | null> {
      const [row] = await queryRows<DeliveryRow>(pool, 'read a delivery', `SELECT ${DELIVERY_COLUMNS} FROM ${from} WHERE d.id = $1`, [id]);
      return row ? toDelivery(row) : null;
    },

    async listDeliveriesOfEvent(eventId: string): Promise<Delivery[]> {
      const rows = await queryRows<DeliveryRow>(
        pool,
        'read deliveries',
        `SELECT ${DELIVERY_COLUMNS} FROM ${from} WHERE d.event_id = $1 ORDER BY d.destination`,
        [eventId],
      );
      return rows.map(toDelivery);
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      const [row] = await queryRows<EventRow>(pool, 'read an event', `SELECT ${EVENT_COLUMNS} FROM ${t.events} WHERE id = $1`, [id]);
      return row ? toStoredEvent(row) : null;
    },

    async findEvents(filter: EventFilter): Promise<EventSummary[]> {
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (filter.query) {
        params.push(filter.query);
        const n = params.length;
        clauses.push(
          filter.prefix
            ? `(left(e.dedupe_key, length($${n})) = $${n} OR left(e.id, length($${n})) = $${n})`
            : `(e.dedupe_key = $${n} OR e.id = $${n})`,
        );
      }
      if (filter.source) {
        params.push(filter.source);
        clauses.push(`e.source = $${params.length}`);
      }
      if (filter.cursor) {
        params.push(filter.cursor);
        clauses.push(`e.id < $${params.length}`);
      }
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      params.push(filter.limit);
      const rows = await queryRows<{ id: string; source: string; dedupe_key: string; content_type: string; size: number; received_at: number }>(
        pool,
        'find events',
        `SELECT e.id, e.source, e.dedupe_key, e.content_type, octet_length(e.body) AS size, e.received_at
           FROM ${t.events} e ${where} ORDER BY e.id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map((row) => ({
        id: row.id,
        source: row.source,
        dedupeKey: row.dedupe_key,
        contentType: row.content_type,
        size: row.size,
        receivedAt: row.received_at,
      }));
    },

    async listAttempts(deliveryId: string): Promise<Attempt[]> {
      const rows = await queryRows<AttemptRow>(
        pool,
        'read attempts',
        `SELECT delivery_id, number, started_at, duration_ms, status_code, error_code, error, response_snippet, outcome
           FROM ${t.attempts} WHERE delivery_id = $1 ORDER BY number`,
        [deliveryId],
      );
      return rows.map(toAttempt);
    },

    async attemptHistogram(since: number, bucketMs: number): Promise<AttemptBucket[]> {
      return queryRows<AttemptBucket>(
        pool,
        'read the attempt histogram',
        `SELECT destination, (started_at / $2::bigint) * $2::bigint AS at,
                count(*) FILTER (WHERE outcome = 'delivered') AS delivered,
                count(*) FILTER (WHERE outcome = 'failed') AS failed
           FROM ${t.attempts} WHERE started_at >= $1 GROUP BY destination, at ORDER BY at, destination`,
        [since, bucketMs],
      );
    },

    async replayDead(selector: ReplaySelector, now: number, dryRun: boolean): Promise<{ matched: number; replayed: number }> {
      const params: unknown[] = [];
      const where = replayWhere(selector, params);
      if (dryRun) {
        const [row] = await queryRows<{ n: number }>(pool, 'count dead letters', `SELECT count(*) AS n FROM ${t.deliveries} WHERE ${where}`, params);
        return { matched: row?.n ?? 0, replayed: 0 };
      }
      return inTransaction(pool, 'replay', async (client) => {
        const n = params.length;
        const rows = (
          await client.query<{ destination: string }>(
            `UPDATE ${t.deliveries} SET status = 'pending', budget_used = 0, next_attempt_at = $${n + 1}, lease_owner = NULL,
                    updated_at = $${n + 1}, dead_at = NULL, queued_at = $${n + 1}
              WHERE ${where} RETURNING destination`,
            [...params, now],
          )
        ).rows;
        await notifyDue(client, t, rows.map((row) => row.destination));
        return { matched: rows.length, replayed: rows.length };
      });
    },

    async retryNow(destinations: readonly string[], now: number): Promise<number> {
      if (destinations.length === 0) return 0;
      return inTransaction(pool, 'retry now', async (client) => {
        const rows = (
          await client.query<{ destination: string }>(
            `UPDATE ${t.deliveries} SET next_attempt_at = $1
              WHERE status = 'pending' AND next_attempt_at > $1 AND destination = ANY($2::text[]) RETURNING destination`,
            [now, destinations],
          )
        ).rows;
        await notifyDue(client, t, rows.map((row) => row.destination));
        return rows.length;
      });
    },

    async redeliver(eventId: string, destinations: readonly string[], now: number): Promise<string[] | null> {
      return inTransaction(pool, 'redeliver', async (client) => {
        const event = (await client.query<{ id: string; source: string }>(`SELECT id, source FROM ${t.events} WHERE id = $1 FOR SHARE`, [eventId]))
          .rows[0];
        if (!event) return null;
        const affected: string[] = [];
        const due: string[] = [];
        for (const destination of destinations) {
          const existing = (
            await client.query<{ id: string }>(`SELECT id FROM ${t.deliveries} WHERE event_id = $1 AND destination = $2 FOR UPDATE`, [eventId, destination])
          ).rows[0];
          if (existing) {
            const reopened = await client.query(
              `UPDATE ${t.deliveries} SET status = 'pending', budget_used = 0, next_attempt_at = $1, lease_owner = NULL, updated_at = $1, dead_at = NULL,
                      queued_at = CASE WHEN status = 'pending' THEN queued_at ELSE $1 END
                WHERE id = $2 AND status IN ('delivered', 'dead', 'pending')`,
              [now, existing.id],
            );
            if ((reopened.rowCount ?? 0) > 0) {
              affected.push(existing.id);
              due.push(destination);
            }
          } else {
            const id = newId('dlv');
            await client.query(
              `INSERT INTO ${t.deliveries} (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at)
               VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5)`,
              [id, eventId, destination, event.source, now],
            );
            affected.push(id);
            due.push(destination);
          }
        }
        await notifyDue(client, t, due);
        return affected;
      });
    },

    async pruneDelivered(before: number, limit: number): Promise<number> {
      return inTransaction(pool, 'prune', async (client) => {
        const ids = (
          await client.query<{ id: string }>(
            `SELECT e.id FROM ${t.events} e WHERE e.received_at < $1
                AND NOT EXISTS (SELECT 1 FROM ${t.deliveries} d WHERE d.event_id = e.id AND d.status <> 'delivered')
              ORDER BY e.received_at LIMIT $2
              FOR UPDATE SKIP LOCKED`,
            [before, limit],
          )
        ).rows.map((row) => row.id);
        if (ids.length === 0) return 0;
        await client.query(`DELETE FROM ${t.attempts} WHERE delivery_id IN (SELECT id FROM ${t.deliveries} WHERE event_id = ANY($1::text[]))`, [ids]);
        await client.query(`DELETE FROM ${t.deliveries} WHERE event_id = ANY($1::text[])`, [ids]);
        // Completed runs go with their callback's event; overdue and lost runs stay until an operator acts.
        await client.query(`DELETE FROM ${t.runs} WHERE event_id = ANY($1::text[]) AND status = 'completed'`, [ids]);
        await client.query(`DELETE FROM ${t.events} WHERE id = ANY($1::text[])`, [ids]);
        return ids.length;
      });
    },
  };
}
