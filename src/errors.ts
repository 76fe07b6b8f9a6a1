/**
 * Errors carry a stable `code`; code paths branch on the code, never on the message.
 * HTTP statuses and CLI exit codes are mapped from codes here and nowhere else.
 */

export const ERROR_CODES = {
  HOOKRELAY_CONFIG_INVALID: { http: 500, exit: 2 },
  HOOKRELAY_CONFIG_NOT_FOUND: { http: 500, exit: 2 },
  HOOKRELAY_USAGE: { http: 400, exit: 2 },
  HOOKRELAY_SIGNATURE_MISSING: { http: 401, exit: 1 },
  HOOKRELAY_SIGNATURE_MALFORMED: { http: 401, exit: 1 },
  HOOKRELAY_SIGNATURE_INVALID: { http: 401, exit: 1 },
  HOOKRELAY_TIMESTAMP_OUT_OF_WINDOW: { http: 401, exit: 1 },
  HOOKRELAY_BODY_TOO_LARGE: { http: 413, exit: 1 },
  HOOKRELAY_BODY_INCOMPLETE: { http: 400, exit: 1 },
  HOOKRELAY_NOT_FOUND: { http: 404, exit: 1 },
  HOOKRELAY_METHOD_NOT_ALLOWED: { http: 405, exit: 1 },
  HOOKRELAY_UNAUTHORIZED: { http: 401, exit: 1 },
  HOOKRELAY_HOST_NOT_ALLOWED: { http: 403, exit: 1 },
  HOOKRELAY_ORIGIN_NOT_ALLOWED: { http: 403, exit: 1 },
  HOOKRELAY_JSON_REQUIRED: { http: 415, exit: 1 },
  HOOKRELAY_BAD_REQUEST: { http: 400, exit: 2 },
  HOOKRELAY_STORAGE_UNAVAILABLE: { http: 503, exit: 1 },
  HOOKRELAY_STORE_LOCKED: { http: 503, exit: 1 },
  HOOKRELAY_DATABASE_NOT_FOUND: { http: 503, exit: 1 },
  HOOKRELAY_SHUTTING_DOWN: { http: 503, exit: 1 },
  HOOKRELAY_EVENT_NOT_FOUND: { http: 404, exit: 1 },
  HOOKRELAY_EVENT_AMBIGUOUS: { http: 409, exit: 1 },
  HOOKRELAY_QUARANTINED_NOT_FOUND: { http: 404, exit: 1 },
  HOOKRELAY_DELIVERY_NOT_FOUND: { http: 404, exit: 1 },
  HOOKRELAY_UNKNOWN_DESTINATION: { http: 400, exit: 1 },
  HOOKRELAY_UNKNOWN_SOURCE: { http: 400, exit: 1 },
  HOOKRELAY_RELAY_UNREACHABLE: { http: 502, exit: 1 },
  HOOKRELAY_CEREBRIUM_UNREACHABLE: { http: 502, exit: 1 },
  HOOKRELAY_RUN_NOT_FOUND: { http: 404, exit: 1 },
  HOOKRELAY_INTERNAL: { http: 500, exit: 1 },
} as const satisfies Record<string, { http: number; exit: 0 | 1 | 2 }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HookrelayError extends Error {
  override readonly name = 'HookrelayError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

/** Identifies our errors by name and code, so errors crossing module copies still match. */
export function isHookrelayError(error: unknown, code?: ErrorCode): error is HookrelayError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  if (candidate.name !== 'HookrelayError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}

export function httpStatusFor(error: unknown): number {
  return isHookrelayError(error) ? ERROR_CODES[error.code].http : 500;
}

export function exitCodeFor(error: unknown): 1 | 2 {
  return isHookrelayError(error) ? ERROR_CODES[error.code].exit : 1;
}

/** The JSON body of an error response: `{"error":{"code":"...","message":"..."}}`. */
export function errorBody(error: unknown): { error: { code: string; message: string } } {
  if (isHookrelayError(error)) return { error: { code: error.code, message: error.message } };
  return { error: { code: 'HOOKRELAY_INTERNAL', message: 'internal error' } };
}
