import { HookrelayError } from '../errors.js';
import { createEventBuilder } from '../ingress/new-event.js';
import { createVerifier } from '../ingress/verify.js';
import type { Logger } from '../log.js';
import type { Quarantined } from '../store/store.js';
import { nowOf, type OperatorContext } from './context.js';
import { assertKnownNames } from './known-names.js';
import { iso } from './views.js';

/** One line of `quarantine list --json`. */
export interface QuarantinedView {
  id: string;
  source: string;
  reason: string;
  receivedAt: string;
  size: number;
}

/** Quarantined callbacks newest first, of one source or all. */
export async function listQuarantine(context: OperatorContext, filter: { source?: string }): Promise<QuarantinedView[]> {
  await assertKnownNames(context, { source: filter.source });
  const entries = await context.store.listQuarantined({ source: filter.source });
  return entries.map((entry) => ({ id: entry.id, source: entry.source, reason: entry.reason, receivedAt: iso(entry.receivedAt)!, size: entry.size }));
}

/** Exactly one of `ids`, `source`, `all`. */
export interface ReleaseRequest {
  ids?: readonly string[];
  source?: string;
  all?: boolean;
  /** Ingest without verifying: an explicit operator decision, logged per callback. */
  force?: boolean;
}

export interface ReleaseResult {
  matched: number;
  released: number;
}

/** The usage checks of a release (exactly one selector), which need no store. */
export function checkReleaseUsage(request: ReleaseRequest): void {
  const given = [request.ids !== undefined, request.source !== undefined, request.all === true].filter(Boolean).length;
  if (given !== 1) {
    throw new HookrelayError('HOOKRELAY_USAGE', 'quarantine release takes exactly one selector: --id ID..., --source NAME or --all');
  }
  if (request.ids !== undefined && request.ids.length === 0) throw new HookrelayError('HOOKRELAY_USAGE', 'quarantine release --id needs at least one id');
}

/**
 * Verifies each selected callback again with the CURRENT config's secrets (the timestamp
 * window is not applied: the callback is as old as its stay in quarantine) and ingests those
 * that pass as normal events (dedupe applies), removing them from the quarantine; the rest
 * stay. A callback whose source is no longer configured stays. A running `serve` delivers the
 * released events as it does any other (its poll, or NOTIFY on PostgreSQL).
 */
export async function releaseQuarantined(context: OperatorContext, request: ReleaseRequest, log: Logger): Promise<ReleaseResult> {
  checkReleaseUsage(request);
  const { config, store } = context;
  if (request.source !== undefined) await assertKnownNames(context, { source: request.source });
  const entries = request.ids !== undefined ? await entriesById(context, request.ids) : await entriesOf(context, request.source);
  const now = nowOf(context);
  let released = 0;
  for (const entry of entries) {
    const source = config.sources.find((candidate) => candidate.name === entry.source);
    if (!source) continue;
    if (!request.force) {
      try {
        createVerifier({ ...source.verify, toleranceMs: Number.POSITIVE_INFINITY })(entry.headers, entry.body, now);
      } catch {
        continue;
      }
    } else {
      log.warn({ source: entry.source, quarantineId: entry.id, reason: entry.reason }, 'released from quarantine WITHOUT verification (--force)');
    }
    const { event } = await createEventBuilder(config, source, log.child({ source: source.name }))(entry.headers, entry.body);
    await store.ingest(event);
    released += await store.removeQuarantined([entry.id]);
  }
  return { matched: entries.length, released };
}

async function entriesById({ store }: OperatorContext, ids: readonly string[]): Promise<Quarantined[]> {
  const unique = [...new Set(ids)];
  const found = await Promise.all(unique.map((id) => store.getQuarantined(id)));
  const unknown = unique.filter((_, index) => found[index] === null);
  if (unknown.length > 0) {
    throw new HookrelayError('HOOKRELAY_QUARANTINED_NOT_FOUND', `nothing quarantined with id ${unknown.map((id) => `"${id}"`).join(', ')}`);
  }
  return found as Quarantined[];
}

async function entriesOf({ store }: OperatorContext, source: string | undefined): Promise<Quarantined[]> {
  const summaries = await store.listQuarantined({ source });
  // Oldest first, so released events keep their order of arrival.
  const entries = await Promise.all(summaries.reverse().map((summary) => store.getQuarantined(summary.id)));
  return entries.filter((entry): entry is Quarantined => entry !== null);
}
