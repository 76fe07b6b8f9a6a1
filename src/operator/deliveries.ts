import { HookrelayError } from '../errors.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../glossary.js';
import type { OperatorContext } from './context.js';
import { attemptView, deliveryView, type AttemptView, type DeliveryView } from './views.js';

export interface DeliveryListRequest {
  status?: string;
  destination?: string;
  source?: string;
  /** Only deliveries that changed state at or after this unix ms. */
  since?: number;
  limit?: number;
  cursor?: string;
}

export interface DeliveryList {
  deliveries: DeliveryView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const DELIVERY_PAGE_DEFAULT = 50;
export const DELIVERY_PAGE_MAX = 1000;

/** Deliveries newest first, filtered by status, destination and source. */
export async function listDeliveries({ store }: OperatorContext, request: DeliveryListRequest): Promise<DeliveryList> {
  const status = request.status ? checkStatus(request.status) : undefined;
  const limit = request.limit ?? DELIVERY_PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > DELIVERY_PAGE_MAX) {
    throw new HookrelayError('HOOKRELAY_USAGE', `limit must be an integer from 1 to ${DELIVERY_PAGE_MAX}`);
  }
  const page = await store.listDeliveries({
    status,
    destination: request.destination || undefined,
    source: request.source || undefined,
    since: request.since,
    limit,
    cursor: request.cursor || undefined,
  });
  return { deliveries: page.deliveries.map(deliveryView), nextCursor: page.nextCursor };
}

/** The deliveries of one event (by destination name), with the list's other filters applied. */
export async function listDeliveriesOfEvent(
  { store }: OperatorContext,
  eventId: string,
  request: Omit<DeliveryListRequest, 'cursor'>,
): Promise<DeliveryList> {
  const status = request.status ? checkStatus(request.status) : undefined;
  const deliveries = (await store.listDeliveriesOfEvent(eventId)).filter(
    (delivery) =>
      (status === undefined || delivery.status === status) &&
      (!request.destination || delivery.destination === request.destination) &&
      (!request.source || delivery.source === request.source) &&
      (request.since === undefined || delivery.updatedAt >= request.since),
  );
  return { deliveries: deliveries.slice(0, request.limit ?? DELIVERY_PAGE_DEFAULT).map(deliveryView), nextCursor: null };
}

export interface DeliveryDetail {
  delivery: DeliveryView;
  attempts: AttemptView[];
  /** The destination this (dead) delivery's event fell back to, or null. */
  fellBackTo: string | null;
}

/** One delivery with its attempt log (oldest attempt first). */
export async function showDelivery({ store }: OperatorContext, deliveryId: string): Promise<DeliveryDetail> {
  const delivery = await store.getDelivery(deliveryId);
  if (!delivery) throw new HookrelayError('HOOKRELAY_DELIVERY_NOT_FOUND', `no delivery with id "${deliveryId}"`);
  const fallback = (await store.listDeliveriesOfEvent(delivery.eventId)).find((other) => other.fallbackFor === delivery.destination);
  return { delivery: deliveryView(delivery), attempts: (await store.listAttempts(deliveryId)).map(attemptView), fellBackTo: fallback?.destination ?? null };
}

function checkStatus(value: string): DeliveryStatus {
  // "in-flight" and "inFlight" are what people type; the stored word is in_flight.
  const normalised = value === 'in-flight' || value === 'inFlight' ? 'in_flight' : value;
  if (!(DELIVERY_STATUSES as readonly string[]).includes(normalised)) {
    throw new HookrelayError('HOOKRELAY_USAGE', `status must be one of ${DELIVERY_STATUSES.join(', ')}`);
  }
  return normalised as DeliveryStatus;
}
