import { redactUrl } from './redact-url.js';

/** What redactUrl makes of a text that is no URL. */
const REDACTED = '***';

/** Keys whose value is, or may hold, a credential: never echoed in an error. */
const SECRET_KEYS = new Set(['secret', 'secrets', 'signingSecret', 'token', 'password', 'headers']);
/** Keys holding a URL: echoed with their password and query values masked. */
const URL_KEYS = new Set(['url', 'publicUrl']);
/** Longer strings are cut: the key path already says where to look. */
const MAX_ECHO_CHARS = 80;

/**
 * What a config error says it got at `path` of the raw (interpolated) config: `, got 0`,
 * `, got "soon"`, `, got a list`; secrets masked (`, got a string of 11 characters (masked)`),
 * URLs with their credentials masked. Empty when the path holds nothing (a missing key), the
 * message already names the value, or the value is a list or map and its type is not what is
 * wrong (a section's own rule, e.g. "set exactly one of…").
 */
export function echoValue(raw: unknown, path: readonly PropertyKey[], message: string, wrongType: boolean): string {
  const found = valueAt(raw, path);
  if (!found.present) return '';
  const value = found.value;
  if (value !== null && typeof value === 'object' && !wrongType) return '';
  if (path.some((part) => typeof part === 'string' && SECRET_KEYS.has(part))) {
    return typeof value === 'string' ? `, got ${maskedString(value)}` : `, got ${kindOf(value)}`;
  }
  if (typeof value === 'string') {
    const last = path[path.length - 1];
    const shown = (typeof last === 'string' && URL_KEYS.has(last)) || value.includes('://') ? redactUrl(value) : value;
    // Not a URL at all: it might be a libpq string with a password in it.
    if (shown === REDACTED) return `, got ${maskedString(value)}`;
    if (namesValue(message, shown)) return '';
    const cut = shown.length > MAX_ECHO_CHARS ? `${shown.slice(0, MAX_ECHO_CHARS)}…` : shown;
    return `, got ${JSON.stringify(cut)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return `, got ${String(value)}`;
  return `, got ${kindOf(value)}`;
}

/** The message already says the value ("duplicate name \"a\"", "/healthz is reserved"). */
function namesValue(message: string, value: string): boolean {
  if (value === '') return false;
  return message.includes(JSON.stringify(value)) || message.startsWith(`${value} `) || message.includes(` ${value} `) || message.endsWith(` ${value}`);
}

function maskedString(value: string): string {
  return value === '' ? 'an empty string' : `a string of ${value.length} characters (masked)`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let node = raw;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return { present: false };
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node === undefined ? { present: false } : { present: true, value: node };
}
