import type { Pool, PoolClient } from 'pg';
import type { Attempt, Delivery, DeliveryStatus, StoredEvent } from '../../glossary.js';
import { newId } from '../../ids.js';
import {
  createParams,
  findEventsQuery,
  listDeliveriesQuery,
  pruneStatements,
  readStatements,
  redeliverStatements,
  replayConditions,
  type OperatorDialect,
} from '../operator-sql.js';
import {
  toAttempt,
  toDelivery,
  toDeliveryPage,
  toEventSummary,
  toStoreStats,
  toStoredEvent,
  type AttemptRow,
  type DeliveryRow,
  type EventRow,
  type EventSummaryRow,
  type StatusCountRow,
} from '../rows.js';
import type { AttemptBucket, DeliveryFilter, DeliveryPage, EventFilter, EventSummary, OperatorStore, QuarantineStore, ReplaySelector, StoreStats } from '../store.js';
import type { Tables } from './sql.js';
import { inTransaction, queryRows } from './transaction.js';

/** The operator tools' store methods (the quarantine's are in quarantine-queries.ts). */
export type OperatorQueries = Omit<OperatorStore, keyof QuarantineStore>;

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

/** The operator SQL's PostgreSQL dialect on the tables of one schema. */
export function postgresDialect(t: Tables): OperatorDialect {
  return { placeholders: '$n', tables: t, byteLength: 'octet_length', prefixMatch: 'left' };
}

/** The PostgreSQL side of the operator tools: reads, replay, redeliver, retention. */
export function createOperatorQueries(pool: Pool, t: Tables): OperatorQueries {
  const dialect = postgresDialect(t);
  const reads = readStatements(dialect);
  const redeliverSql = redeliverStatements(dialect);
  const pruneSql = pruneStatements(dialect);

  /** The WHERE clause of a replay selector, its parameters added to `p`. */
  const replayWhere = (selector: ReplaySelector, p: ReturnType<typeof createParams>): string => {
    const clauses = [`status = 'dead'`];
    if ('ids' in selector) clauses.push(`id = ANY(${p.add(selector.ids)}::text[])`);
    return [...clauses, ...replayConditions(selector, p)].join(' AND ');
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
      const events = rows.find((row) => row.status === null || row.destination === null)?.n ?? 0;
      return toStoreStats(events, rows.filter((row): row is StatusCountRow => row.status !== null && row.destination !== null), destinations);
    },

    async listDeliveries(filter: DeliveryFilter): Promise<DeliveryPage> {
      const query = listDeliveriesQuery(dialect, filter);
      return toDeliveryPage(await queryRows<DeliveryRow>(pool, 'list deliveries', query.text, query.params), filter.limit);
    },

    async getDelivery(id: string): Promise<Delivery | null> {
      const [row] = await queryRows<DeliveryRow>(pool, 'read a delivery', reads.delivery, [id]);
      return row ? toDelivery(row) : null;
    },

    async listDeliveriesOfEvent(eventId: string): Promise<Delivery[]> {
      return (await queryRows<DeliveryRow>(pool, 'read deliveries', reads.deliveriesOfEvent, [eventId])).map(toDelivery);
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      const [row] = await queryRows<EventRow>(pool, 'read an event', reads.event, [id]);
      return row ? toStoredEvent(row) : null;
    },

    async findEvents(filter: EventFilter): Promise<EventSummary[]> {
      const query = findEventsQuery(dialect, filter);
      return (await queryRows<EventSummaryRow>(pool, 'find events', query.text, query.params)).map(toEventSummary);
    },

    async listAttempts(deliveryId: string): Promise<Attempt[]> {
      return (await queryRows<AttemptRow>(pool, 'read attempts', reads.attempts, [deliveryId])).map(toAttempt);
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
      const p = createParams(dialect);
      const where = replayWhere(selector, p);
      if (dryRun) {
        const [row] = await queryRows<{ n: number }>(pool, 'count dead letters', `SELECT count(*) AS n FROM ${t.deliveries} WHERE ${where}`, p.values);
        return { matched: row?.n ?? 0, replayed: 0 };
      }
      return inTransaction(pool, 'replay', async (client) => {
        const at = p.reuse(now);
        const rows = (
          await client.query<{ destination: string }>(
            `UPDATE ${t.deliveries} SET status = 'pending', budget_used = 0, next_attempt_at = ${at()}, lease_owner = NULL,
                    updated_at = ${at()}, dead_at = NULL, queued_at = ${at()}
              WHERE ${where} RETURNING destination`,
            p.values,
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
            const reopen = redeliverSql.reopen(now, existing.id);
            const reopened = await client.query(reopen.text, reopen.params);
            if ((reopened.rowCount ?? 0) > 0) {
              affected.push(existing.id);
              due.push(destination);
            }
          } else {
            const id = newId('dlv');
            const insert = redeliverSql.insert({ id, eventId, destination, source: event.source }, now);
            await client.query(insert.text, insert.params);
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
        // Events another process is pruning right now are skipped, not waited for.
        const prunable = pruneSql.prunable(before, limit, ' FOR UPDATE SKIP LOCKED');
        const ids = (await client.query<{ id: string }>(prunable.text, prunable.params)).rows.map((row) => row.id);
        if (ids.length === 0) return 0;
        for (const remove of pruneSql.deletes((column) => `${column} = ANY($1::text[])`)) await client.query(remove, [ids]);
        return ids.length;
      });
    },
  };
}
