import { createDedupeKeyFn } from './dedupe-key.js';
import type { IncomingHeaders } from './verify.js';

/** The run id of a Cerebrium callback: body `run_id`, else `X-Request-Id`. */
export const RUN_ID_RULES = ['body:run_id', 'header:x-request-id'] as const;

/** Derives a callback's run id, or undefined when it carries none; given the already derived dedupe key. */
export type RunIdFn = (headers: IncomingHeaders, body: Buffer, contentType: string, dedupeKey: string) => string | undefined;

/**
 * Built once for `runs.source`. With the default dedupe rules the dedupe key already is the
 * run id, so the body is not parsed twice.
 */
export function createRunIdFn(dedupeRules: readonly string[]): RunIdFn {
  const sameRules = dedupeRules.length === RUN_ID_RULES.length && dedupeRules.every((rule, index) => rule === RUN_ID_RULES[index]);
  const derive = sameRules ? null : createDedupeKeyFn(RUN_ID_RULES);
  return (headers, body, contentType, dedupeKey) => {
    const key = derive ? derive(headers, body, contentType) : dedupeKey;
    // The dedupe function's fallback (a hash of the body) is not a run id.
    return key.startsWith('sha256:') ? undefined : key;
  };
}
