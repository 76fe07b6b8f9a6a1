import type { DeliveryStatus } from '../glossary.js';
import { destinationNames, type OperatorContext } from './context.js';

export interface StatusCounts {
  pending: number;
  inFlight: number;
  delivered: number;
  dead: number;
}

/** `stats --json`: every configured destination is listed, zeros included. */
export interface StatsView {
  events: number;
  deliveries: StatusCounts;
  destinations: Record<string, StatusCounts>;
}

function counts(byStatus: Record<DeliveryStatus, number>): StatusCounts {
  return { pending: byStatus.pending, inFlight: byStatus.in_flight, delivered: byStatus.delivered, dead: byStatus.dead };
}

export async function readStats({ config, store }: OperatorContext): Promise<StatsView> {
  const stats = await store.stats(destinationNames(config));
  return {
    events: stats.events,
    deliveries: counts(stats.deliveries),
    destinations: Object.fromEntries(Object.entries(stats.destinations).map(([name, byStatus]) => [name, counts(byStatus)])),
  };
}
