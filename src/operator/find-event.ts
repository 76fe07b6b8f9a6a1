import { HookrelayError } from '../errors.js';
import type { OperatorContext } from './context.js';

/**
 * The event an operator means by `reference`: an event id, else the dedupe key of exactly one
 * event (a Cerebrium run id is the cerebrium source's dedupe key), else a tracked run's run id.
 * Unknown -> HOOKRELAY_EVENT_NOT_FOUND; a dedupe key that several sources share ->
 * HOOKRELAY_EVENT_AMBIGUOUS naming the event ids to choose from (both exit 1).
 */
export async function resolveEventId({ store }: OperatorContext, reference: string): Promise<string> {
  if (reference === '') throw new HookrelayError('HOOKRELAY_USAGE', 'an event id, run id or dedupe key is needed');
  if (await store.getEvent(reference)) return reference;
  const byKey = (await store.findEvents({ query: reference, limit: 10 })).filter((event) => event.dedupeKey === reference);
  if (byKey.length === 1) return byKey[0]!.id;
  if (byKey.length > 1) {
    const choices = byKey.map((event) => `${event.id} (${event.source})`).join(', ');
    throw new HookrelayError('HOOKRELAY_EVENT_AMBIGUOUS', `"${reference}" is the dedupe key of several events: ${choices}; name one by its id`);
  }
  const run = await store.getRun(reference);
  if (run?.eventId) return run.eventId;
  throw new HookrelayError('HOOKRELAY_EVENT_NOT_FOUND', `no event with id, run id or dedupe key "${reference}"`);
}
