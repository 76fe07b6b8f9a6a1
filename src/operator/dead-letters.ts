import { destinationNames, type OperatorContext } from './context.js';
import { deadLetterView, type DeadLetterView } from './views.js';

export interface DeadLetterFilter {
  destination?: string;
  source?: string;
  /** Only dead letters that died at or after this unix ms. */
  since?: number;
}

export interface DeadLetterPage {
  deadLetters: DeadLetterView[];
  nextCursor: string | null;
}

export const DEAD_LETTER_PAGE_MAX = 1000;

/**
 * One page of dead letters, newest first. Names need not be configured: dead letters of a
 * destination removed from the config are still listed.
 */
export async function listDeadLetters(
  { store }: OperatorContext,
  filter: DeadLetterFilter & { limit?: number; cursor?: string },
): Promise<DeadLetterPage> {
  const page = await store.listDeliveries({
    status: 'dead',
    destination: filter.destination,
    source: filter.source,
    since: filter.since,
    limit: Math.min(Math.max(1, filter.limit ?? 100), DEAD_LETTER_PAGE_MAX),
    cursor: filter.cursor,
  });
  return { deadLetters: page.deliveries.map(deadLetterView), nextCursor: page.nextCursor };
}

/**
 * Every matching dead letter, page by page (the CLI streams them as JSON lines): destination
 * by destination (by name), newest first within each. Walking one destination at a time keeps
 * every page an index range read, however many dead letters there are.
 */
export async function* eachDeadLetter(context: OperatorContext, filter: DeadLetterFilter): AsyncGenerator<DeadLetterView> {
  const destinations =
    filter.destination !== undefined
      ? [filter.destination]
      : Object.entries((await context.store.stats(destinationNames(context.config))).destinations)
          .filter(([, counts]) => counts.dead > 0)
          .map(([name]) => name)
          .sort();
  for (const destination of destinations) {
    let cursor: string | undefined;
    do {
      const page = await listDeadLetters(context, { ...filter, destination, limit: DEAD_LETTER_PAGE_MAX, cursor });
      yield* page.deadLetters;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}
