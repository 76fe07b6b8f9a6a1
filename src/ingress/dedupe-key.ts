import { createHash } from 'node:crypto';
import type { IncomingHeaders } from './verify.js';

/**
 * Derives an event's dedupe key from the source's rules; built once per source. `decoded` is
 * what `body:` rules read when the body arrived with a Content-Encoding: the decoded bytes, or
 * null when they could not be decoded (body rules then find nothing). Omitted: `body` itself.
 * The sha256 fallback always hashes the received bytes.
 */
export type DedupeKeyFn = ((headers: IncomingHeaders, body: Buffer, contentType: string, decoded?: Buffer | null) => string) & {
  /** Whether any rule reads the body (only then is an encoded body worth decoding). */
  readonly readsBody: boolean;
};

type Rule = { kind: 'body'; path: string[] } | { kind: 'header'; name: string };

/**
 * `body:<dotted path>` reads a string or number from the JSON body, `header:<name>` a header
 * (case-insensitive); the first rule that yields a value wins; none -> `sha256:<hex of body>`.
 * The JSON body is parsed at most once, and only when a body rule needs it.
 */
export function createDedupeKeyFn(rules: readonly string[]): DedupeKeyFn {
  const parsed: Rule[] = rules.map((rule) =>
    rule.startsWith('body:')
      ? { kind: 'body', path: rule.slice('body:'.length).split('.') }
      : { kind: 'header', name: rule.slice('header:'.length).toLowerCase() },
  );
  const keyOf = (headers: IncomingHeaders, body: Buffer, _contentType: string, decoded?: Buffer | null): string => {
    let json: unknown;
    let jsonParsed = false;
    for (const rule of parsed) {
      if (rule.kind === 'header') {
        const value = headers[rule.name];
        const first = Array.isArray(value) ? value[0] : value;
        if (first) return first;
        continue;
      }
      if (!jsonParsed) {
        const readable = decoded === undefined ? body : decoded;
        json = readable === null ? undefined : parseJson(readable);
        jsonParsed = true;
      }
      const value = readPath(json, rule.path);
      if (value !== undefined) return value;
    }
    return `sha256:${createHash('sha256').update(body).digest('hex')}`;
  };
  return Object.assign(keyOf, { readsBody: parsed.some((rule) => rule.kind === 'body') });
}

/** The body as JSON when it is an object, else undefined (what dotted paths can read). */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const first = body[0];
  // Only objects can hold a dotted path; skip parsing anything else (whitespace-prefixed JSON still parses).
  if (first !== 0x7b && first !== 0x20 && first !== 0x0a && first !== 0x0d && first !== 0x09) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function readPath(json: unknown, path: readonly string[]): string | undefined {
  let node = json;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node === 'string' && node !== '') return node;
  // An integer beyond 2^53 is not the number that was sent (12345678901234567890 and ...891 parse
  // alike): using it would merge distinct events, so it is not a key and the next rule decides.
  if (typeof node === 'number' && Number.isFinite(node) && (Number.isSafeInteger(node) || !Number.isInteger(node))) return String(node);
  return undefined;
}
