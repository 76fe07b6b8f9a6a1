import type { Database, Statement } from 'better-sqlite3';
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
import type { AttemptBucket, OperatorStore, QuarantineStore, ReplaySelector, StoreStats } from '../store.js';
import type { GuardedWrite } from './guarded-write.js';

/** The operator tools' store methods (the quarantine's are in quarantine-queries.ts). */
export type OperatorQueries = Omit<OperatorStore, keyof QuarantineStore>;

const ID_CHUNK = 500;

export const SQLITE_DIALECT: OperatorDialect = {
  placeholders: '?',
  tables: { events: 'events', deliveries: 'deliveries', attempts: 'attempts', runs: 'runs' },
  byteLength: 'length',
  prefixMatch: 'range',
  deadByIdIndex: 'deliveries_dead_by_id',
};

/** The SQLite side of the operator tools: reads, replay, redeliver, retention; writes run through `write`. */
export function createOperatorQueries(db: Database, write: GuardedWrite): OperatorQueries {
  // Statements built from filters: each distinct text is prepared once.
  const prepared = new Map<string, Statement>();
  const statement = (text: string): Statement => {
    let found = prepared.get(text);
    if (!found) prepared.set(text, (found = db.prepare(text)));
    return found;
  };
  const reads = readStatements(SQLITE_DIALECT);
  const redeliverSql = redeliverStatements(SQLITE_DIALECT);
  const pruneSql = pruneStatements(SQLITE_DIALECT);
  const countEvents = db.prepare('SELECT count(*) FROM events').pluck();
  const countByStatus = db.prepare('SELECT destination, status, count(*) AS n FROM deliveries GROUP BY status, destination');
  const getDelivery = db.prepare(reads.delivery);
  const deliveriesOfEvent = db.prepare(reads.deliveriesOfEvent);
  const getEvent = db.prepare(reads.event);
  const attempts = db.prepare(reads.attempts);
  const histogram = db.prepare(
    `SELECT destination, (started_at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS at,
            sum(outcome = 'delivered') AS delivered, sum(outcome = 'failed') AS failed
       FROM attempts WHERE started_at >= @since GROUP BY destination, at ORDER BY at`,
  );
  const eventOf = db.prepare('SELECT id, source FROM events WHERE id = ?');
  const deliveryOf = db.prepare('SELECT id FROM deliveries WHERE event_id = ? AND destination = ?');
  const deletes = pruneSql.deletes((column) => `${column} = ?`).map((text) => db.prepare(text));

  const replayWhere = (selector: ReplaySelector, p: ReturnType<typeof createParams>): string =>
    // By ids: look rows up by primary key. The unary + keeps the planner off the status index,
    // which (without ANALYZE statistics) it would pick and scan every dead row for each chunk.
    ['ids' in selector ? `+status = 'dead'` : `status = 'dead'`, ...replayConditions(selector, p)].join(' AND ');

  const replayDead = db.transaction((selector: ReplaySelector, now: number, dryRun: boolean) => {
    const chunks: (readonly string[] | null)[] = [];
    if ('ids' in selector) {
      for (let i = 0; i < selector.ids.length; i += ID_CHUNK) chunks.push(selector.ids.slice(i, i + ID_CHUNK));
    } else {
      chunks.push(null);
    }
    let matched = 0;
    let replayed = 0;
    for (const ids of chunks) {
      const p = createParams(SQLITE_DIALECT);
      let where = replayWhere(selector, p);
      if (ids) where += ` AND id IN (${ids.map((id) => p.add(id)).join(',')})`;
      matched += db.prepare(`SELECT count(*) FROM deliveries WHERE ${where}`).pluck().get(...p.values) as number;
      if (!dryRun) {
        replayed += db
          .prepare(
            `UPDATE deliveries SET status = 'pending', budget_used = 0, next_attempt_at = ?, updated_at = ?, dead_at = NULL, queued_at = ? WHERE ${where}`,
          )
          .run(now, now, now, ...p.values).changes;
      }
    }
    return { matched, replayed };
  });

  const redeliver = db.transaction((eventId: string, destinations: readonly string[], now: number): string[] | null => {
    const event = eventOf.get(eventId) as { id: string; source: string } | undefined;
    if (!event) return null;
    const affected: string[] = [];
    for (const destination of destinations) {
      const existing = deliveryOf.get(eventId, destination) as { id: string } | undefined;
      if (existing) {
        const reopen = redeliverSql.reopen(now, existing.id);
        if (statement(reopen.text).run(...reopen.params).changes > 0) affected.push(existing.id);
      } else {
        const id = newId('dlv');
        const insert = redeliverSql.insert({ id, eventId, destination, source: event.source }, now);
        statement(insert.text).run(...insert.params);
        affected.push(id);
      }
    }
    return affected;
  });

  const prune = db.transaction((before: number, limit: number) => {
    const prunable = pruneSql.prunable(before, limit);
    const ids = statement(prunable.text).pluck().all(...prunable.params) as string[];
    for (const id of ids) for (const remove of deletes) remove.run(id);
    return ids.length;
  });

  /** One read transaction, so the event and delivery counts come from the same snapshot. */
  const stats = db.transaction((destinations: readonly string[]): StoreStats =>
    toStoreStats(countEvents.get() as number, countByStatus.all() as StatusCountRow[], destinations),
  );

  const retryNow = (destinations: readonly string[], now: number): number =>
    db
      .prepare(
        `UPDATE deliveries SET next_attempt_at = ?
          WHERE status = 'pending' AND next_attempt_at > ? AND destination IN (${destinations.map(() => '?').join(',')})`,
      )
      .run(now, now, ...destinations).changes;

  return {
    stats: async (destinations) => stats(destinations),

    async listDeliveries(filter) {
      const query = listDeliveriesQuery(SQLITE_DIALECT, filter);
      return toDeliveryPage(statement(query.text).all(...query.params) as DeliveryRow[], filter.limit);
    },

    async getDelivery(id) {
      const row = getDelivery.get(id) as DeliveryRow | undefined;
      return row ? toDelivery(row) : null;
    },

    async listDeliveriesOfEvent(eventId) {
      return (deliveriesOfEvent.all(eventId) as DeliveryRow[]).map(toDelivery);
    },

    async getEvent(id) {
      const row = getEvent.get(id) as EventRow | undefined;
      return row ? toStoredEvent(row) : null;
    },

    async findEvents(filter) {
      const query = findEventsQuery(SQLITE_DIALECT, filter);
      return (statement(query.text).all(...query.params) as EventSummaryRow[]).map(toEventSummary);
    },

    async listAttempts(deliveryId) {
      return (attempts.all(deliveryId) as AttemptRow[]).map(toAttempt);
    },

    async attemptHistogram(since, bucketMs) {
      return histogram.all({ since, bucket: bucketMs }) as AttemptBucket[];
    },

    replayDead: async (selector, now, dryRun) => write('replay', () => replayDead.immediate(selector, now, dryRun)),
    retryNow: async (destinations, now) => write('retry now', () => (destinations.length === 0 ? 0 : retryNow(destinations, now))),
    redeliver: async (eventId, destinations, now) => write('redeliver', () => redeliver.immediate(eventId, destinations, now)),
    pruneDelivered: async (before, limit) => write('prune', () => prune.immediate(before, limit)),
  };
}
