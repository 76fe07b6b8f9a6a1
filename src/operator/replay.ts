import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { HookrelayError } from '../errors.js';
import { destinationNames, nowOf, type OperatorContext } from './context.js';

/** Exactly one of `ids`, `destination`, `all`; as the CLI flags and the admin API body say. */
export interface ReplayRequest {
  ids?: readonly string[];
  destination?: string;
  all?: boolean;
  /** Only dead letters that died at or after this unix ms. */
  since?: number;
  dryRun?: boolean;
}

export interface ReplayResult {
  matched: number;
  replayed: number;
  dryRun: boolean;
}

export interface ReplayOptions {
  /** Called after each batch with the deliveries replayed so far and the number expected. */
  onProgress?(replayed: number, total: number): void;
  batchSize?: number;
}

/** Rows per write transaction: small enough that a running `serve` never waits long for the lock. */
const DEFAULT_BATCH = 1000;

/**
 * Moves matching dead letters back to `pending` with a fresh attempt budget; their ids, their
 * event and so the `webhook-id` consumers see stay the same. A running `serve` picks them up
 * on its next poll. Works in batches of short transactions, so ingress on the same database
 * is never held up by a large replay. Only destinations in the config are replayed: a dead
 * letter of a destination that was removed counts as matched but stays dead.
 */
export async function replayDeadLetters(
  context: OperatorContext,
  request: ReplayRequest,
  { onProgress, batchSize = DEFAULT_BATCH }: ReplayOptions = {},
): Promise<ReplayResult> {
  const selector = checkSelector(context, request);
  const dryRun = request.dryRun === true;
  if (selector.kind === 'ids') return replayIds(context, selector.ids, request.since, dryRun, batchSize, onProgress);

  const { store } = context;
  let total = 0;
  for (const destination of selector.destinations) {
    total += (await store.replayDead({ destination, since: request.since }, nowOf(context), true)).matched;
  }
  if (dryRun) return { matched: total, replayed: 0, dryRun };

  let matched = 0;
  let replayed = 0;
  for (const destination of selector.destinations) {
    let cursor: string | undefined;
    do {
      const page = await store.listDeliveries({ status: 'dead', destination, since: request.since, limit: batchSize, cursor });
      const ids = page.deliveries.map((delivery) => delivery.id);
      if (ids.length > 0) {
        const result = await store.replayDead({ ids, since: request.since }, nowOf(context), false);
        matched += result.matched;
        replayed += result.replayed;
        onProgress?.(replayed, Math.max(total, replayed));
      }
      cursor = page.nextCursor ?? undefined;
      await yieldToEventLoop();
    } while (cursor);
  }
  return { matched, replayed, dryRun };
}

type Selector = { kind: 'ids'; ids: string[] } | { kind: 'destinations'; destinations: string[] };

/** The usage checks of a replay request (exactly one selector), which need no store: exit 2 before anything opens. */
export function checkReplayUsage(request: ReplayRequest): void {
  const given = [request.ids !== undefined, request.destination !== undefined, request.all === true].filter(Boolean).length;
  if (given !== 1) {
    throw new HookrelayError(
      'HOOKRELAY_USAGE',
      given === 0
        ? 'replay needs a selector: --id ID..., --destination NAME or --all (API: ids, destination, all)'
        : 'replay takes exactly one selector: --id, --destination or --all (API: ids, destination, all)',
    );
  }
  if (request.since !== undefined && !Number.isFinite(request.since)) {
    throw new HookrelayError('HOOKRELAY_USAGE', 'since must be a time');
  }
}

function checkSelector({ config }: OperatorContext, request: ReplayRequest): Selector {
  checkReplayUsage(request);
  if (request.ids !== undefined) {
    const ids = [...new Set(request.ids.map((id) => id.trim()).filter(Boolean))];
    if (ids.length === 0) throw new HookrelayError('HOOKRELAY_USAGE', 'replay --id needs at least one delivery id');
    return { kind: 'ids', ids };
  }
  const configured = destinationNames(config);
  if (request.destination !== undefined) {
    if (!configured.includes(request.destination)) {
      throw new HookrelayError(
        'HOOKRELAY_UNKNOWN_DESTINATION',
        `unknown destination "${request.destination}" (configured: ${configured.join(', ') || 'none'})`,
      );
    }
    return { kind: 'destinations', destinations: [request.destination] };
  }
  return { kind: 'destinations', destinations: configured };
}

async function replayIds(
  context: OperatorContext,
  ids: readonly string[],
  since: number | undefined,
  dryRun: boolean,
  batchSize: number,
  onProgress: ReplayOptions['onProgress'],
): Promise<ReplayResult> {
  const { store, config } = context;
  const configured = new Set(destinationNames(config));
  await assertDeliveriesExist(context, ids, batchSize);
  let matched = 0;
  let replayed = 0;
  for (let offset = 0; offset < ids.length; offset += batchSize) {
    const chunk = ids.slice(offset, offset + batchSize);
    const deliveries = await Promise.all(chunk.map((id) => store.getDelivery(id)));
    const dead = deliveries.filter(
      (delivery) => delivery !== null && delivery.status === 'dead' && (since === undefined || (delivery.deadAt ?? 0) >= since),
    );
    matched += dead.length;
    const eligible = dead.filter((delivery) => configured.has(delivery!.destination)).map((delivery) => delivery!.id);
    if (!dryRun && eligible.length > 0) {
      replayed += (await store.replayDead({ ids: eligible, since }, nowOf(context), false)).replayed;
      onProgress?.(replayed, ids.length);
    }
    await yieldToEventLoop();
  }
  return { matched, replayed, dryRun };
}

/** `replay --id dlv_nope` names the ids no delivery has (exit 1) before anything changes. */
async function assertDeliveriesExist({ store }: OperatorContext, ids: readonly string[], batchSize: number): Promise<void> {
  const unknown: string[] = [];
  for (let offset = 0; offset < ids.length; offset += batchSize) {
    const chunk = ids.slice(offset, offset + batchSize);
    const found = await Promise.all(chunk.map((id) => store.getDelivery(id)));
    chunk.forEach((id, index) => {
      if (found[index] === null) unknown.push(id);
    });
  }
  if (unknown.length === 0) return;
  const shown = unknown.slice(0, 10).map((id) => `"${id}"`).join(', ');
  throw new HookrelayError(
    'HOOKRELAY_DELIVERY_NOT_FOUND',
    `no delivery with id ${shown}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''} (ids as printed by dlq list)`,
  );
}
