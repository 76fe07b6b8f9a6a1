import { HookrelayError } from '../errors.js';
import { nowOf, type OperatorContext } from './context.js';
import { resolveEventId } from './find-event.js';

export interface RedeliverRequest {
  /** An event id, or a run id / dedupe key (see resolveEventId). */
  eventId: string;
  /** One destination; omitted = every destination the event's source fans out to. */
  destination?: string;
}

export interface RedeliverResult {
  eventId: string;
  /** Deliveries now pending (existing ones reopened with a fresh budget, or newly created). */
  redelivered: { id: string; destination: string }[];
  /** Destinations left alone because their delivery is being attempted right now. */
  inFlight: string[];
}

/**
 * Sends a stored event again, with its original id as `webhook-id`: to one destination, or to
 * every configured destination that takes its source (including ones added after it arrived).
 * Errors: unknown event -> HOOKRELAY_EVENT_NOT_FOUND; a destination that is not configured, or
 * does not take the event's source -> HOOKRELAY_UNKNOWN_DESTINATION (both exit 1).
 */
export async function redeliverEvent(context: OperatorContext, request: RedeliverRequest): Promise<RedeliverResult> {
  const { config, store } = context;
  const eventId = await resolveEventId(context, request.eventId);
  const event = await store.getEvent(eventId);
  if (!event) throw new HookrelayError('HOOKRELAY_EVENT_NOT_FOUND', `no event with id "${eventId}"`);

  const takers = config.destinations.filter((destination) => destination.sources.includes(event.source)).map((d) => d.name);
  let targets: string[];
  if (request.destination !== undefined) {
    const destination = config.destinations.find((candidate) => candidate.name === request.destination);
    if (!destination) {
      throw new HookrelayError('HOOKRELAY_UNKNOWN_DESTINATION', `unknown destination "${request.destination}"`);
    }
    if (!destination.sources.includes(event.source)) {
      throw new HookrelayError(
        'HOOKRELAY_UNKNOWN_DESTINATION',
        `destination "${request.destination}" does not take events of source "${event.source}"`,
      );
    }
    targets = [destination.name];
  } else {
    targets = takers;
  }
  if (targets.length === 0) {
    throw new HookrelayError('HOOKRELAY_UNKNOWN_DESTINATION', `no configured destination takes events of source "${event.source}"`);
  }

  const affected = new Set((await store.redeliver(event.id, targets, nowOf(context))) ?? []);
  const deliveries = await store.listDeliveriesOfEvent(event.id);
  const byDestination = new Map(deliveries.map((delivery) => [delivery.destination, delivery]));
  const redelivered: RedeliverResult['redelivered'] = [];
  const inFlight: string[] = [];
  for (const name of targets) {
    const delivery = byDestination.get(name);
    if (delivery && affected.has(delivery.id)) redelivered.push({ id: delivery.id, destination: name });
    else inFlight.push(name);
  }
  return { eventId: event.id, redelivered, inFlight };
}
