import type { DestinationConfig } from '../config/load.js';
import { parseJson } from './dedupe-key.js';
import type { IncomingHeaders } from './verify.js';

/**
 * Which of a source's destinations an event is queued for: those without a `filter`, and
 * those whose every filter entry matches. Decided once, at ingest; the JSON body is parsed at
 * most once per event, and only when some `body:` entry needs it.
 */
export type DestinationSelector = ((headers: IncomingHeaders, readBody: () => Buffer | null) => Selection) & {
  /** Whether any entry reads the body (only then is an encoded body worth decoding). */
  readonly readsBody: boolean;
};

export interface Selection {
  /** Destinations the event is queued for. */
  queued: readonly string[];
  /** Destinations whose filter the event did not match: no delivery row for them. */
  filtered: readonly string[];
}

type Entry = { kind: 'body'; path: string[]; accepted: ReadonlySet<string> } | { kind: 'header'; name: string; accepted: ReadonlySet<string> };

interface FilteredDestination {
  name: string;
  entries: Entry[];
}

export function createDestinationSelector(destinations: readonly DestinationConfig[]): DestinationSelector {
  const unfiltered = destinations.filter((destination) => !destination.filter).map((destination) => destination.name);
  const filtered: FilteredDestination[] = destinations
    .filter((destination) => destination.filter)
    .map((destination) => ({ name: destination.name, entries: Object.entries(destination.filter!).map(([key, values]) => toEntry(key, values)) }));
  const readsBody = filtered.some((destination) => destination.entries.some((entry) => entry.kind === 'body'));
  const everything: Selection = Object.freeze({ queued: Object.freeze(unfiltered), filtered: Object.freeze([]) });

  const select = (headers: IncomingHeaders, readBody: () => Buffer | null): Selection => {
    if (filtered.length === 0) return everything;
    let json: unknown;
    let parsed = false;
    const body = () => {
      if (!parsed) {
        const bytes = readBody();
        json = bytes === null ? undefined : parseJson(bytes);
        parsed = true;
      }
      return json;
    };
    const queued = [...unfiltered];
    const skipped: string[] = [];
    for (const destination of filtered) {
      const matches = destination.entries.every((entry) =>
        entry.kind === 'header' ? headerMatches(headers[entry.name], entry.accepted) : bodyMatches(readPath(body(), entry.path), entry.accepted),
      );
      (matches ? queued : skipped).push(destination.name);
    }
    return { queued: orderLike(destinations, queued), filtered: skipped };
  };
  return Object.assign(select, { readsBody });
}

function toEntry(key: string, values: readonly string[]): Entry {
  const accepted = new Set(values);
  if (key.startsWith('body:')) return { kind: 'body', path: key.slice('body:'.length).split('.'), accepted };
  return { kind: 'header', name: key.slice('header:'.length).toLowerCase(), accepted };
}

function headerMatches(value: string | string[] | undefined, accepted: ReadonlySet<string>): boolean {
  if (value === undefined) return false;
  return Array.isArray(value) ? value.some((one) => accepted.has(one)) : accepted.has(value);
}

function bodyMatches(value: unknown, accepted: ReadonlySet<string>): boolean {
  const text = jsonText(value);
  return text !== undefined && accepted.has(text);
}

function readPath(json: unknown, path: readonly string[]): unknown {
  let node = json;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A string as itself, a number, boolean or null by its JSON text; objects and arrays never match. */
function jsonText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
  return undefined;
}

/** Keeps the configured order of destinations (rows are created in it). */
function orderLike(destinations: readonly DestinationConfig[], names: readonly string[]): string[] {
  const wanted = new Set(names);
  return destinations.filter((destination) => wanted.has(destination.name)).map((destination) => destination.name);
}
