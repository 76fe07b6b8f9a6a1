import { DELIVERY_STATUSES } from '../glossary.js';
import { DELIVERY_COLUMNS, EVENT_COLUMNS } from './rows.js';
import type { DeliveryFilter, EventFilter, ReplaySelector } from './store.js';

/**
 * The operator tools' SQL, built once for both SQL adapters: filters, pages, replay selectors,
 * redeliver and prune statements. What differs between the engines is the dialect below;
 * hot-path SQL (ingest, claims, completions) stays in each adapter, tuned to its planner.
 */
export interface OperatorDialect {
  /** SQLite binds `?` in order; PostgreSQL numbers them `$1, $2, …`. */
  placeholders: '?' | '$n';
  /** Table names (PostgreSQL: qualified with the schema). */
  tables: { events: string; deliveries: string; attempts: string; runs: string };
  /** How a body's size is read without reading the body: `length` (SQLite blob), `octet_length` (bytea). */
  byteLength: 'length' | 'octet_length';
  /**
   * A prefix of the dedupe key or id: `range` (`>= q AND < q || U+10FFFF`, so an index serves
   * it under SQLite's BINARY collation) or `left` (`left(col, length(q)) = q`, PostgreSQL).
   */
  prefixMatch: 'range' | 'left';
  /**
   * SQLite without statistics: the index to walk dead letters newest first when nothing else
   * narrows the list (its planner would otherwise sort every dead row). PostgreSQL: none.
   */
  deadByIdIndex?: string;
}

/** A statement and its parameters, in order. */
export interface Query {
  text: string;
  params: unknown[];
}

/** Collects parameters in order, answering the placeholder that binds each in the dialect's style. */
export interface Params {
  readonly values: unknown[];
  add(value: unknown): string;
  /** A value used several times: `$n` binds it once and repeats its placeholder; `?` binds it at each use. */
  reuse(value: unknown): () => string;
}

export function createParams(dialect: Pick<OperatorDialect, 'placeholders'>): Params {
  const values: unknown[] = [];
  const add = (value: unknown): string => {
    values.push(value);
    return dialect.placeholders === '?' ? '?' : `$${values.length}`;
  };
  return {
    values,
    add,
    reuse(value) {
      if (dialect.placeholders === '?') return () => add(value);
      const placeholder = add(value);
      return () => placeholder;
    },
  };
}

/** The placeholder of the `n`-th parameter (1-based) of a statement whose parameters are each used once, in order. */
export function placeholder(dialect: Pick<OperatorDialect, 'placeholders'>, n: number): string {
  return dialect.placeholders === '?' ? '?' : `$${n}`;
}

const where = (clauses: readonly string[]): string => (clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '');

/** One page of deliveries newest first, one row more than `limit` to know whether a next page exists. */
export function listDeliveriesQuery(dialect: OperatorDialect, filter: DeliveryFilter): Query {
  const { deliveries, events } = dialect.tables;
  const p = createParams(dialect);
  const clauses: string[] = [];
  if (filter.status) {
    // A literal (from the fixed status list), so the planner can use the partial indexes of dead rows.
    if (!DELIVERY_STATUSES.includes(filter.status)) throw new Error(`unknown delivery status ${String(filter.status)}`);
    clauses.push(`d.status = '${filter.status}'`);
  }
  if (filter.destination) clauses.push(`d.destination = ${p.add(filter.destination)}`);
  if (filter.source) clauses.push(`d.source = ${p.add(filter.source)}`);
  if (filter.since !== undefined) clauses.push(`${filter.status === 'dead' ? 'd.dead_at' : 'd.updated_at'} >= ${p.add(filter.since)}`);
  if (filter.cursor) clauses.push(`d.id < ${p.add(filter.cursor)}`);
  const hint = dialect.deadByIdIndex && filter.status === 'dead' && !filter.destination && !filter.source ? ` INDEXED BY ${dialect.deadByIdIndex}` : '';
  const text = `SELECT ${DELIVERY_COLUMNS} FROM ${deliveries} d${hint} JOIN ${events} e ON e.id = d.event_id ${where(clauses)}
    ORDER BY d.id DESC LIMIT ${p.add(filter.limit + 1)}`;
  return { text, params: p.values };
}

/** Events newest first (ids sort by arrival), as EventSummaryRows. */
export function findEventsQuery(dialect: OperatorDialect, filter: EventFilter): Query {
  const p = createParams(dialect);
  const clauses: string[] = [];
  if (filter.query && filter.prefix) {
    if (dialect.prefixMatch === 'range') {
      // BINARY collation: U+10FFFF sorts after every other character.
      const end = `${filter.query}\u{10FFFF}`;
      clauses.push(`((e.dedupe_key >= ${p.add(filter.query)} AND e.dedupe_key < ${p.add(end)}) OR (e.id >= ${p.add(filter.query)} AND e.id < ${p.add(end)}))`);
    } else {
      const q = p.reuse(filter.query);
      clauses.push(`(left(e.dedupe_key, length(${q()})) = ${q()} OR left(e.id, length(${q()})) = ${q()})`);
    }
  } else if (filter.query) {
    const q = p.reuse(filter.query);
    clauses.push(`(e.dedupe_key = ${q()} OR e.id = ${q()})`);
  }
  if (filter.source) clauses.push(`e.source = ${p.add(filter.source)}`);
  if (filter.cursor) clauses.push(`e.id < ${p.add(filter.cursor)}`);
  const text = `SELECT e.id, e.source, e.dedupe_key, e.content_type, ${dialect.byteLength}(e.body) AS size, e.received_at
    FROM ${dialect.tables.events} e ${where(clauses)} ORDER BY e.id DESC LIMIT ${p.add(filter.limit)}`;
  return { text, params: p.values };
}

/**
 * The conditions of a replay selector besides `status = 'dead'` and the ids (which each
 * adapter matches its own way: SQLite in chunks of `IN (…)`, PostgreSQL as one array).
 */
export function replayConditions(selector: ReplaySelector, p: Params): string[] {
  const clauses: string[] = [];
  if ('destination' in selector) clauses.push(`destination = ${p.add(selector.destination)}`);
  if (selector.since !== undefined) clauses.push(`dead_at >= ${p.add(selector.since)}`);
  return clauses;
}

/** Reads by key whose one parameter is the id: a delivery, an event's deliveries, an event, a delivery's attempts. */
export function readStatements(dialect: OperatorDialect) {
  const { events, deliveries, attempts } = dialect.tables;
  const id = placeholder(dialect, 1);
  const from = `${deliveries} d JOIN ${events} e ON e.id = d.event_id`;
  return {
    delivery: `SELECT ${DELIVERY_COLUMNS} FROM ${from} WHERE d.id = ${id}`,
    deliveriesOfEvent: `SELECT ${DELIVERY_COLUMNS} FROM ${from} WHERE d.event_id = ${id} ORDER BY d.destination`,
    event: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE id = ${id}`,
    attempts: `SELECT delivery_id, number, started_at, duration_ms, status_code, error_code, error, response_snippet, outcome
       FROM ${attempts} WHERE delivery_id = ${id} ORDER BY number`,
  };
}

/** Redeliver's statements (one event, one destination at a time). */
export function redeliverStatements(dialect: OperatorDialect) {
  const { deliveries } = dialect.tables;
  return {
    /**
     * An existing delivery becomes pending with a fresh budget, due at `now`; it moves to the
     * back of the queue unless it was pending already. In-flight ones are left alone.
     */
    reopen(now: number, id: string): Query {
      const p = createParams(dialect);
      const at = p.reuse(now);
      return {
        text: `UPDATE ${deliveries} SET status = 'pending', budget_used = 0, next_attempt_at = ${at()}, lease_owner = NULL, updated_at = ${at()}, dead_at = NULL,
                      queued_at = CASE WHEN status = 'pending' THEN queued_at ELSE ${at()} END
                WHERE id = ${p.add(id)} AND status IN ('delivered', 'dead', 'pending')`,
        params: p.values,
      };
    },
    /** A missing delivery is created, pending and due at `now`. */
    insert(delivery: { id: string; eventId: string; destination: string; source: string }, now: number): Query {
      const p = createParams(dialect);
      const columns = [p.add(delivery.id), p.add(delivery.eventId), p.add(delivery.destination), p.add(delivery.source)];
      const at = p.reuse(now);
      return {
        text: `INSERT INTO ${deliveries} (id, event_id, destination, source, status, next_attempt_at, created_at, updated_at)
               VALUES (${columns.join(', ')}, 'pending', ${at()}, ${at()}, ${at()})`,
        params: p.values,
      };
    },
  };
}

/**
 * Retention of delivered events: which events may go (received before `before`, every delivery
 * delivered, oldest first, up to `limit`; `locking`: a row-locking clause, PostgreSQL's) and
 * the deletes of those events — attempts, deliveries, completed runs (overdue and lost runs
 * stay until an operator acts), then the events. `matchIds` matches a column against the
 * events to delete: one id at a time (`= ?`) or an array (`= ANY($1::text[])`).
 */
export function pruneStatements(dialect: OperatorDialect) {
  const { events, deliveries, attempts, runs } = dialect.tables;
  return {
    prunable(before: number, limit: number, locking = ''): Query {
      const p = createParams(dialect);
      return {
        text: `SELECT e.id FROM ${events} e WHERE e.received_at < ${p.add(before)}
                  AND NOT EXISTS (SELECT 1 FROM ${deliveries} d WHERE d.event_id = e.id AND d.status <> 'delivered')
                ORDER BY e.received_at LIMIT ${p.add(limit)}${locking}`,
        params: p.values,
      };
    },
    deletes(matchIds: (column: string) => string): string[] {
      return [
        `DELETE FROM ${attempts} WHERE delivery_id IN (SELECT id FROM ${deliveries} WHERE ${matchIds('event_id')})`,
        `DELETE FROM ${deliveries} WHERE ${matchIds('event_id')}`,
        `DELETE FROM ${runs} WHERE ${matchIds('event_id')} AND status = 'completed'`,
        `DELETE FROM ${events} WHERE ${matchIds('id')}`,
      ];
    },
  };
}
