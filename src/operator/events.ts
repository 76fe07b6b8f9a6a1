import { HookrelayError } from '../errors.js';
import type { DeliveryStatus } from '../glossary.js';
import type { OperatorContext } from './context.js';
import {
  attemptView, deliveryView, eventSummaryView, iso, type AttemptView, type DeliveryView, type EventSummaryView,
} from './views.js';

/** Bodies up to this size are included in an event's detail; larger ones are cut (and say so). */
export const EVENT_BODY_PREVIEW_BYTES = 256 * 1024;

export interface EventDetail {
  event: {
    id: string;
    source: string;
    dedupeKey: string;
    contentType: string;
    size: number;
    receivedAt: string;
    /** The body as text when it is UTF-8, else base64 (see `bodyEncoding`); cut at EVENT_BODY_PREVIEW_BYTES. */
    body: string;
    bodyEncoding: 'utf8' | 'base64';
    bodyTruncated: boolean;
  };
  deliveries: (DeliveryView & { attemptLog: AttemptView[] })[];
}

/** An event with every delivery and each delivery's attempt log. */
export async function getEventDetail({ store }: OperatorContext, eventId: string): Promise<EventDetail> {
  const event = await store.getEvent(eventId);
  if (!event) throw new HookrelayError('HOOKRELAY_EVENT_NOT_FOUND', `no event with id "${eventId}"`);
  const deliveries = await store.listDeliveriesOfEvent(eventId);
  const withAttempts = await Promise.all(
    deliveries.map(async (delivery) => ({
      ...deliveryView(delivery),
      attemptLog: (await store.listAttempts(delivery.id)).map(attemptView),
    })),
  );
  const preview = event.body.subarray(0, EVENT_BODY_PREVIEW_BYTES);
  const text = decodeUtf8(preview);
  return {
    event: {
      id: event.id,
      source: event.source,
      dedupeKey: event.dedupeKey,
      contentType: event.contentType,
      size: event.body.length,
      receivedAt: iso(event.receivedAt)!,
      body: text ?? preview.toString('base64'),
      bodyEncoding: text === null ? 'base64' : 'utf8',
      bodyTruncated: preview.length < event.body.length,
    },
    deliveries: withAttempts,
  };
}

/** The whole stored body of an event (`events show --body`); empty when the event is gone meanwhile. */
export async function readEventBody({ store }: OperatorContext, eventId: string): Promise<Buffer> {
  return (await store.getEvent(eventId))?.body ?? Buffer.alloc(0);
}

export interface EventSearch {
  /** A dedupe key (e.g. a run_id) or an event id, or the start of one. */
  query?: string;
  source?: string;
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface EventPage {
  /** Each with its deliveries' status by destination (as `events search --json`). */
  events: (EventSummaryView & { deliveries: Record<string, DeliveryStatus> })[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const EVENT_PAGE_DEFAULT = 50;
export const EVENT_PAGE_MAX = 500;

/**
 * Events newest first, optionally only those whose dedupe key or id equals or starts with the query. Pages follow
 * the event id, not the arrival time: one group commit stores many events in the same
 * millisecond, and a time cursor would skip the rest of them.
 */
export async function searchEvents({ store }: OperatorContext, search: EventSearch): Promise<EventPage> {
  const limit = search.limit ?? EVENT_PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > EVENT_PAGE_MAX) {
    throw new HookrelayError('HOOKRELAY_USAGE', `limit must be an integer from 1 to ${EVENT_PAGE_MAX}`);
  }
  const rows = await store.findEvents({
    query: search.query || undefined,
    // The dashboard's search box: the start of a run id finds it (operators paste partial ids).
    prefix: true,
    source: search.source || undefined,
    limit: limit + 1,
    cursor: search.cursor || undefined,
  });
  const page = rows.slice(0, limit);
  const events = await Promise.all(
    page.map(async (event) => ({ ...eventSummaryView(event), deliveries: await deliveryStatuses(store, event.id) })),
  );
  return { events, nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
}

/** `{"<destination>":"<status>"}` of one event's deliveries. */
async function deliveryStatuses(store: OperatorContext['store'], eventId: string): Promise<Record<string, DeliveryStatus>> {
  return Object.fromEntries((await store.listDeliveriesOfEvent(eventId)).map((delivery) => [delivery.destination, delivery.status]));
}

/** The bytes as text when they are valid UTF-8, else null. */
export function decodeUtf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** One line of `events search`: the event and each delivery's status by destination. */
export interface EventMatchView {
  id: string;
  source: string;
  dedupeKey: string;
  receivedAt: string;
  deliveries: Record<string, DeliveryStatus>;
}

export const EVENT_MATCH_DEFAULT = 50;

/**
 * Events whose id or dedupe key (a run id for Cerebrium) equals or starts with `query`, newest
 * first, at most `limit`.
 */
export async function matchEvents(context: OperatorContext, query: string, limit = EVENT_MATCH_DEFAULT): Promise<EventMatchView[]> {
  if (query === '') throw new HookrelayError('HOOKRELAY_USAGE', 'events search needs a query (an event id, run id or dedupe key, or the start of one)');
  if (!Number.isInteger(limit) || limit < 1 || limit > EVENT_PAGE_MAX) {
    throw new HookrelayError('HOOKRELAY_USAGE', `limit must be an integer from 1 to ${EVENT_PAGE_MAX}`);
  }
  const events = await context.store.findEvents({ query, prefix: true, limit });
  return Promise.all(
    events.map(async (event) => ({
      id: event.id,
      source: event.source,
      dedupeKey: event.dedupeKey,
      receivedAt: iso(event.receivedAt)!,
      deliveries: await deliveryStatuses(context.store, event.id),
    })),
  );
}
