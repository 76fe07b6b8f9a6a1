import { readdirSync, readFileSync } from 'node:fs';
import type { Attempt, ClaimedDelivery, Delivery, DeliveryStatus, StoredEvent } from '../glossary.js';
import { emptyStatusCounts, type DeliveryPage, type EventSummary, type StoreStats } from './store.js';

/**
 * What both SQL adapters share: the column names of a delivery row joined with its event,
 * the mapping from rows to the glossary's types, and how numbered migration files are read.
 */

export interface DeliveryRow {
  id: string;
  event_id: string;
  destination: string;
  source: string;
  dedupe_key: string;
  status: DeliveryStatus;
  attempts: number;
  budget_used: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  dead_at: number | null;
  fallback_for: string | null;
}

/** Columns of `deliveries d JOIN events e` that make a DeliveryRow. */
export const DELIVERY_COLUMNS = `d.id, d.event_id, d.destination, d.source, e.dedupe_key, d.status, d.attempts, d.budget_used,
  d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.updated_at, d.delivered_at, d.dead_at, d.fallback_for`;

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    eventId: row.event_id,
    destination: row.destination,
    source: row.source,
    dedupeKey: row.dedupe_key,
    status: row.status,
    attempts: row.attempts,
    budgetUsed: row.budget_used,
    nextAttemptAt: row.next_attempt_at,
    // In flight, next_attempt_at holds the lease expiry.
    leaseExpiresAt: row.status === 'in_flight' ? row.next_attempt_at : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
    deadAt: row.dead_at,
    fallbackFor: row.fallback_for,
  };
}

/** A page of DeliveryRows read with one row more than `limit`: that row only says a next page exists. */
export function toDeliveryPage(rows: readonly DeliveryRow[], limit: number): DeliveryPage {
  const page = rows.slice(0, limit).map(toDelivery);
  return { deliveries: page, nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
}

/** Delivery counts per destination and status (`GROUP BY status, destination`). */
export interface StatusCountRow {
  destination: string;
  status: DeliveryStatus;
  n: number;
}

/** The stats answer: every configured destination present (zeros when it has no rows), others as found. */
export function toStoreStats(events: number, rows: readonly StatusCountRow[], destinations: readonly string[]): StoreStats {
  const stats: StoreStats = { events, deliveries: emptyStatusCounts(), destinations: {} };
  for (const name of destinations) stats.destinations[name] = emptyStatusCounts();
  for (const row of rows) {
    stats.deliveries[row.status] += row.n;
    (stats.destinations[row.destination] ??= emptyStatusCounts())[row.status] += row.n;
  }
  return stats;
}

export interface EventSummaryRow {
  id: string;
  source: string;
  dedupe_key: string;
  content_type: string;
  size: number;
  received_at: number;
}

export function toEventSummary(row: EventSummaryRow): EventSummary {
  return {
    id: row.id,
    source: row.source,
    dedupeKey: row.dedupe_key,
    contentType: row.content_type,
    size: row.size,
    receivedAt: row.received_at,
  };
}

export interface EventRow {
  id: string;
  source: string;
  dedupe_key: string;
  content_type: string;
  content_encoding: string | null;
  body: Buffer;
  received_at: number;
}

/** Columns of `events` that make an EventRow. */
export const EVENT_COLUMNS = 'id, source, dedupe_key, content_type, content_encoding, body, received_at';

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    source: row.source,
    dedupeKey: row.dedupe_key,
    contentType: row.content_type,
    contentEncoding: row.content_encoding,
    body: row.body,
    receivedAt: Number(row.received_at),
  };
}

/** A claimed delivery row joined with its event's content type and encoding, body and arrival time. */
export interface ClaimRow {
  id: string;
  event_id: string;
  destination: string;
  source: string;
  attempts: number;
  budget_used: number;
  content_type: string;
  content_encoding: string | null;
  body: Buffer;
  received_at: number;
  /** The metadata of the run the event completed (LEFT JOIN runs), if any. */
  run_metadata?: string | null;
  fallback_for?: string | null;
  request_id?: string | null;
}

export function toClaimedDelivery(row: ClaimRow): ClaimedDelivery {
  return {
    id: row.id,
    eventId: row.event_id,
    destination: row.destination,
    source: row.source,
    contentType: row.content_type,
    contentEncoding: row.content_encoding,
    body: row.body,
    attempts: Number(row.attempts),
    budgetUsed: Number(row.budget_used),
    receivedAt: Number(row.received_at),
    runMetadata: row.run_metadata ?? null,
    fallbackFor: row.fallback_for ?? null,
    requestId: row.request_id ?? null,
  };
}

export interface AttemptRow {
  delivery_id: string;
  number: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error_code: string | null;
  error: string | null;
  response_snippet: string | null;
  outcome: 'delivered' | 'failed';
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    deliveryId: row.delivery_id,
    number: Number(row.number),
    startedAt: Number(row.started_at),
    durationMs: Number(row.duration_ms),
    statusCode: row.status_code,
    errorCode: row.error_code,
    error: row.error,
    responseSnippet: row.response_snippet,
    outcome: row.outcome,
  };
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d+)_([a-z0-9_]+)\.sql$/;

/** The numbered `NNN_name.sql` files of a folder, in order. */
export function readMigrationFiles(dir: string): Migration[] {
  return readdirSync(dir)
    .map((file) => ({ file, match: MIGRATION_FILE.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => ({ version: Number(match[1]), name: match[2]!, sql: readFileSync(`${dir}/${file}`, 'utf8') }))
    .sort((a, b) => a.version - b.version);
}
