import type { Config, SourceConfig } from '../config/load.js';
import type { NewEvent } from '../glossary.js';
import type { Logger } from '../log.js';
import { decodeContentEncoding } from './decode-body.js';
import { createDedupeKeyFn } from './dedupe-key.js';
import { createDestinationSelector } from './destination-filter.js';
import { createRunIdFn } from './run-id.js';
import type { IncomingHeaders } from './verify.js';

/** A verified callback as the event to commit, and the destinations whose filter it did not match. */
export interface BuiltEvent {
  event: NewEvent;
  filtered: readonly string[];
}

/** Turns a verified callback of one source into the event to commit. */
export type EventBuilder = (headers: IncomingHeaders, body: Buffer) => Promise<BuiltEvent>;

/**
 * Built once per source: its dedupe key rules, run id (when it is `runs.source`) and the
 * destinations that take it (their filters decided here, once per event). Ingress uses it for each callback; a quarantine release for each
 * callback it lets through, so a released callback becomes exactly the event it would have been.
 */
export function createEventBuilder(config: Config, source: SourceConfig, log: Logger): EventBuilder {
  const dedupeKeyOf = createDedupeKeyFn(source.dedupe.keys);
  const runIdOf = config.runs?.source === source.name ? createRunIdFn(source.dedupe.keys) : null;
  const selectDestinations = createDestinationSelector(config.destinations.filter((destination) => destination.sources.includes(source.name)));
  const maxBodyBytes = config.server.maxBodyBytes;
  return async (headers, body) => {
    const contentType = single(headers['content-type']) || 'application/octet-stream';
    const contentEncoding = single(headers['content-encoding']) || null;
    const readsBody = dedupeKeyOf.readsBody || selectDestinations.readsBody;
    const decoded = contentEncoding && readsBody ? await decodeForBodyRules(body, contentEncoding, maxBodyBytes, log) : undefined;
    const dedupeKey = dedupeKeyOf(headers, body, contentType, decoded);
    const runId = runIdOf?.(headers, decoded ?? body, contentType, dedupeKey);
    const { queued: destinations, filtered } = selectDestinations(headers, () => (decoded === undefined ? body : decoded));
    const requestId = single(headers['x-request-id']) || null;
    return {
      event: { source: source.name, dedupeKey, contentType, contentEncoding, body, requestId, destinations, ...(runId ? { runId } : {}) },
      filtered,
    };
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The body with its Content-Encoding undone (bounded by maxBodyBytes of output), for `body:`
 * dedupe rules and filters only; null when it cannot be decoded: the dedupe key then falls back
 * to the next rule and `body:` filters do not match, as for a body that is not JSON, and the
 * operator is told.
 */
async function decodeForBodyRules(body: Buffer, contentEncoding: string, maxBytes: number, log: Logger): Promise<Buffer | null> {
  try {
    return await decodeContentEncoding(body, contentEncoding, maxBytes);
  } catch (error) {
    log.warn({ contentEncoding, reason: (error as Error).message }, 'cannot decode the body for its body: rules (dedupe key, filters): they are skipped');
    return null;
  }
}
