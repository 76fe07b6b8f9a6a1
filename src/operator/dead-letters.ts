import type { OperatorContext } from './context.js';
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

/** Every matching dead letter, page by page (the CLI streams them as JSON lines). */
export async function* eachDeadLetter(context: OperatorContext, filter: DeadLetterFilter): AsyncGenerator<DeadLetterView> {
  let cursor: string | undefined;
  do {
    const page = await listDeadLetters(context, { ...filter, limit: DEAD_LETTER_PAGE_MAX, cursor });
    yield* page.deadLetters;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
