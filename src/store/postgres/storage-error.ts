import { HookrelayError, isHookrelayError } from '../../errors.js';

/**
 * SQLSTATE classes meaning "the database cannot take this now" rather than "this query is
 * wrong": connection exceptions, insufficient resources (disk full, too many connections),
 * operator intervention (shutdown, statement timeout), system errors, serialization
 * failures and deadlocks (after our retries), lock timeouts, internal errors.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58', '40', 'XX']);
const UNAVAILABLE_STATES = new Set(['25006', '55P03', '55000']);
/** Socket-level failures reported by Node while talking to the server. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The PostgreSQL error code (SQLSTATE) of a server-reported error, else null. */
export function sqlState(error: unknown): string | null {
  const code = (error as { code?: unknown })?.code;
  const severity = (error as { severity?: unknown })?.severity;
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string' ? code : null;
}

/**
 * Maps a failure of a database call to `HOOKRELAY_STORAGE_UNAVAILABLE` (ingress answers 503)
 * when the server is unreachable, gone, full, read-only or too slow. A server error of any
 * other class (a bug in a query) is passed on unchanged. node-postgres reports a lost or
 * timed-out connection as an Error with no code: that counts as unavailable too.
 */
export function toStorageError(error: unknown, what: string): unknown {
  if (isHookrelayError(error)) return error;
  const state = sqlState(error);
  if (state !== null) {
    if (!UNAVAILABLE_CLASSES.has(state.slice(0, 2)) && !UNAVAILABLE_STATES.has(state)) return error;
    return new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage cannot ${what}: SQLSTATE ${state}`, { cause: error });
  }
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && !NETWORK_CODES.has(code)) return error;
  const detail = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', `storage cannot ${what}: ${detail}`, { cause: error });
}

/** Deadlocks and serialization failures: the transaction may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40P01' || state === '40001';
}
