import type { Attempt, Delivery, DeliveryStatus } from '../glossary.js';
import type { EventSummary } from '../store/store.js';

/**
 * The JSON shapes operator output uses (CLI `--json`, admin API, dashboard): ids as strings,
 * times as ISO-8601 (null when unset), names as in the glossary.
 */

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** One line of `dlq list --json`: exactly the contract's fields. */
export interface DeadLetterView {
  id: string;
  eventId: string;
  destination: string;
  source: string;
  dedupeKey: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deadAt: string;
}

export function deadLetterView(delivery: Delivery): DeadLetterView {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    destination: delivery.destination,
    source: delivery.source,
    dedupeKey: delivery.dedupeKey,
    attempts: delivery.attempts,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    deadAt: iso(delivery.deadAt ?? delivery.updatedAt)!,
  };
}

export interface DeliveryView {
  id: string;
  eventId: string;
  destination: string;
  source: string;
  dedupeKey: string;
  status: DeliveryStatus;
  /** Attempts ever made, across replays. */
  attempts: number;
  /** Attempts counted against `retry.maxAttempts` since creation or the last replay. */
  budgetUsed: number;
  /** When a pending delivery is due; when an in-flight one's lease expires; null otherwise. */
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  deadAt: string | null;
  /** Created because the delivery of this event to that destination died (its fallback); null otherwise. */
  fallbackFor: string | null;
}

export function deliveryView(delivery: Delivery): DeliveryView {
  const waiting = delivery.status === 'pending' || delivery.status === 'in_flight';
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    destination: delivery.destination,
    source: delivery.source,
    dedupeKey: delivery.dedupeKey,
    status: delivery.status,
    attempts: delivery.attempts,
    budgetUsed: delivery.budgetUsed,
    nextAttemptAt: waiting ? iso(delivery.nextAttemptAt) : null,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    createdAt: iso(delivery.createdAt)!,
    updatedAt: iso(delivery.updatedAt)!,
    deliveredAt: iso(delivery.deliveredAt),
    deadAt: iso(delivery.deadAt),
    fallbackFor: delivery.fallbackFor,
  };
}

export interface AttemptView {
  number: number;
  startedAt: string;
  durationMs: number;
  outcome: Attempt['outcome'];
  statusCode: number | null;
  errorCode: string | null;
  error: string | null;
  responseSnippet: string | null;
}

export function attemptView(attempt: Attempt): AttemptView {
  return {
    number: attempt.number,
    startedAt: iso(attempt.startedAt)!,
    durationMs: attempt.durationMs,
    outcome: attempt.outcome,
    statusCode: attempt.statusCode,
    errorCode: attempt.errorCode,
    error: attempt.error,
    responseSnippet: attempt.responseSnippet,
  };
}

export interface EventSummaryView {
  id: string;
  source: string;
  dedupeKey: string;
  contentType: string;
  size: number;
  receivedAt: string;
}

export function eventSummaryView(event: EventSummary): EventSummaryView {
  return {
    id: event.id,
    source: event.source,
    dedupeKey: event.dedupeKey,
    contentType: event.contentType,
    size: event.size,
    receivedAt: iso(event.receivedAt)!,
  };
}
