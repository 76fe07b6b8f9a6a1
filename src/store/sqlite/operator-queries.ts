import type { Database } from 'better-sqlite3';
import { DELIVERY_STATUSES, type Attempt, type Delivery, type DeliveryStatus, type StoredEvent } from '../../glossary.js';
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

/** The SQLite side of the operator tools: reads, replay, redeliver, retention. */
export type OperatorQueries = ReturnType<typeof createOperatorQueries>;

const ID_CHUNK = 500;

export function createOperatorQueries(db: Database) {
  const countEvents = db.prepare('SELECT count(*) FROM events').pluck();
  const countByStatus = db.prepare('SELECT destination, status, count(*) AS n FROM deliveries GROUP BY status, destination');
  const getDelivery = db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ?`);
  const deliveriesOfEvent = db.prepare(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.event_id = ? ORDER BY d.destination`,
  );
  const getEvent = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`);
  const attempts = db.prepare(
    `SELECT delivery_id, number, started_at, duration_ms, status_code, error_code, error, response_snippet, outcome
       FROM attempts WHERE delivery_id = ? ORDER BY number`,
  );
  const histogram = db.prepare(
    `SELECT destination, (started_at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS at,
            sum(outcome = 'delivered') AS delivered, sum(outcome = 'failed') AS failed
       FROM attempts WHERE started_at >= @since GROUP BY destination, at ORDER BY at`,
  );
  const eventOf = db.prepare('SELECT id, source FROM events WHERE id = ?');
  const deliveryOf = db.prepare('SELECT id, status FROM deliveries WHERE event_id = ? AND destination = ?');
  const reopen = db.prepare(
    `UPDATE deliveries SET status = 'pending', budget_used = 0, next_attempt_at = ?, lease_owner = NULL, updated_at = ?, dead_at = NULL,
            queued_at = CASE WHEN status = 'pending' THEN queued_at ELSE ? END
      WHERE id = ? AND status IN ('delivered', 'dead', 'pending')`,
  );
  const insertDelivery = db.prepare(
    `INSERT INTO deliveries (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
  );
  const prunable = db
    .prepare(
      `SELECT e.id FROM events e WHERE e.received_at < ?
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status <> 'delivered')
        ORDER BY e.received_at LIMIT ?`,
    )
    .pluck();
  const deleteAttempts = db.prepare('DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ?)');
  const deleteDeliveries = db.prepare('DELETE FROM deliveries WHERE event_id = ?');
  // Completed runs go with their callback's event; overdue and lost runs stay until an operator acts.
  const deleteCompletedRun = db.prepare("DELETE FROM runs WHERE event_id = ? AND status = 'completed'");
  const deleteEvent = db.prepare('DELETE FROM events WHERE id = ?');

  const replayWhere = (selector: ReplaySelector, params: unknown[]): string => {
    // By ids: look rows up by primary key. The unary + keeps the planner off the status index,
    // which (without ANALYZE statistics) it would pick and scan every dead row for each chunk.
    const clauses = ['ids' in selector ? `+status = 'dead'` : `status = 'dead'`];
    if ('destination' in selector) {
      clauses.push('destination = ?');
      params.push(selector.destination);
    }
    if (selector.since !== undefined) {
      clauses.push('dead_at >= ?');
      params.push(selector.since);
    }
    return clauses.join(' AND ');
  };

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
      const params: unknown[] = [];
      let where = replayWhere(selector, params);
      if (ids) {
        where += ` AND id IN (${ids.map(() => '?').join(',')})`;
        params.push(...ids);
      }
      matched += db.prepare(`SELECT count(*) FROM deliveries WHERE ${where}`).pluck().get(...params) as number;
      if (!dryRun) {
        replayed += db
          .prepare(
            `UPDATE deliveries SET status = 'pending', budget_used = 0, next_attempt_at = ?, updated_at = ?, dead_at = NULL, queued_at = ? WHERE ${where}`,
          )
          .run(now, now, now, ...params).changes;
      }
    }
    return { matched, replayed };
  });

  const redeliver = db.transaction((eventId: string, destinations: readonly string[], now: number): string[] | null => {
    const event = eventOf.get(eventId) as { id: string; source: string } | undefined;
    if (!event) return null;
    const affected: string[] = [];
    for (const destination of destinations) {
      const existing = deliveryOf.get(eventId, destination) as { id: string; status: DeliveryStatus } | undefined;
      if (existing) {
        if (reopen.run(now, now, now, existing.id).changes > 0) affected.push(existing.id);
      } else {
        const id = newId('dlv');
        insertDelivery.run(id, eventId, destination, event.source, now, now, now);
        affected.push(id);
      }
    }
    return affected;
  });

  const prune = db.transaction((before: number, limit: number) => {
    const ids = prunable.all(before, limit) as string[];
    for (const id of ids) {
      deleteAttempts.run(id);
      deleteDeliveries.run(id);
      deleteCompletedRun.run(id);
      deleteEvent.run(id);
    }
    return ids.length;
  });

  /** One read transaction, so the event and delivery counts come from the same snapshot. */
  const stats = db.transaction((destinations: readonly string[]): StoreStats => {
    const result: StoreStats = { events: countEvents.get() as number, deliveries: emptyStatusCounts(), destinations: {} };
    for (const name of destinations) result.destinations[name] = emptyStatusCounts();
    for (const row of countByStatus.all() as { destination: string; status: DeliveryStatus; n: number }[]) {
      result.deliveries[row.status] += row.n;
      (result.destinations[row.destination] ??= emptyStatusCounts())[row.status] += row.n;
    }
    return result;
  });

  return {
    stats: (destinations: readonly string[]) => stats(destinations),

    listDeliveries(filter: DeliveryFilter): DeliveryPage {
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (filter.status) {
        // A literal (from the fixed status list), so the planner can use the partial indexes of dead rows.
        if (!DELIVERY_STATUSES.includes(filter.status)) throw new Error(`unknown delivery status ${String(filter.status)}`);
        clauses.push(`d.status = '${filter.status}'`);
      }
      if (filter.destination) {
        clauses.push('d.destination = ?');
        params.push(filter.destination);
      }
      if (filter.source) {
        clauses.push('d.source = ?');
        params.push(filter.source);
      }
      if (filter.since !== undefined) {
        clauses.push(filter.status === 'dead' ? 'd.dead_at >= ?' : 'd.updated_at >= ?');
        params.push(filter.since);
      }
      if (filter.cursor) {
        clauses.push('d.id < ?');
        params.push(filter.cursor);
      }
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      // Without statistics the planner prefers (status, destination) and sorts every dead row;
      // walking the partial index of dead rows by id reads one page and stops.
      const hint = filter.status === 'dead' && !filter.destination && !filter.source ? 'INDEXED BY deliveries_dead_by_id' : '';
      const rows = db
        .prepare(`SELECT ${DELIVERY_COLUMNS} FROM deliveries d ${hint} JOIN events e ON e.id = d.event_id ${where} ORDER BY d.id DESC LIMIT ?`)
        .all(...params, filter.limit + 1) as DeliveryRow[];
      const page = rows.slice(0, filter.limit).map(toDelivery);
      return { deliveries: page, nextCursor: rows.length > filter.limit ? page[page.length - 1]!.id : null };
    },

    getDelivery(id: string): Delivery | null {
      const row = getDelivery.get(id) as DeliveryRow | undefined;
      return row ? toDelivery(row) : null;
    },

    listDeliveriesOfEvent(eventId: string): Delivery[] {
      return (deliveriesOfEvent.all(eventId) as DeliveryRow[]).map(toDelivery);
    },

    getEvent(id: string): StoredEvent | null {
      const row = getEvent.get(id) as EventRow | undefined;
      return row ? toStoredEvent(row) : null;
    },

    findEvents(filter: EventFilter): EventSummary[] {
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (filter.query && filter.prefix) {
        // Ranges, so both indexes serve a prefix (BINARY collation: U+10FFFF sorts after every other character).
        const end = `${filter.query}\u{10FFFF}`;
        clauses.push('((e.dedupe_key >= ? AND e.dedupe_key < ?) OR (e.id >= ? AND e.id < ?))');
        params.push(filter.query, end, filter.query, end);
      } else if (filter.query) {
        clauses.push('(e.dedupe_key = ? OR e.id = ?)');
        params.push(filter.query, filter.query);
      }
      if (filter.source) {
        clauses.push('e.source = ?');
        params.push(filter.source);
      }
      if (filter.cursor) {
        clauses.push('e.id < ?');
        params.push(filter.cursor);
      }
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      const rows = db
        .prepare(
          `SELECT e.id, e.source, e.dedupe_key, e.content_type, length(e.body) AS size, e.received_at
             FROM events e ${where} ORDER BY e.id DESC LIMIT ?`,
        )
        .all(...params, filter.limit) as { id: string; source: string; dedupe_key: string; content_type: string; size: number; received_at: number }[];
      return rows.map((row) => ({
        id: row.id,
        source: row.source,
        dedupeKey: row.dedupe_key,
        contentType: row.content_type,
        size: row.size,
        receivedAt: row.received_at,
      }));
    },

    listAttempts(deliveryId: string): Attempt[] {
      return (attempts.all(deliveryId) as AttemptRow[]).map(toAttempt);
    },

    attemptHistogram(since: number, bucketMs: number): AttemptBucket[] {
      return histogram.all({ since, bucket: bucketMs }) as AttemptBucket[];
    },

    replayDead: (selector: ReplaySelector, now: number, dryRun: boolean) => replayDead.immediate(selector, now, dryRun),

    retryNow(destinations: readonly string[], now: number): number {
      if (destinations.length === 0) return 0;
      return db
        .prepare(
          `UPDATE deliveries SET next_attempt_at = ?
            WHERE status = 'pending' AND next_attempt_at > ? AND destination IN (${destinations.map(() => '?').join(',')})`,
        )
        .run(now, now, ...destinations).changes;
    },
    redeliver: (eventId: string, destinations: readonly string[], now: number) => redeliver.immediate(eventId, destinations, now),
    pruneDelivered: (before: number, limit: number) => prune.immediate(before, limit),
  };
}
