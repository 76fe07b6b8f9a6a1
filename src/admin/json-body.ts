import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { HookrelayError } from '../errors.js';
import { bodyDrained, tooLarge } from '../http/read-body.js';

/**
 * Reads a JSON request body into `ctx.request.body` with koa-body, for a route of the admin
 * listener: at most `limitBytes` (declared or received), an absent or empty body reads as `{}`.
 * What `browserPolicy` lets through is `Content-Type: application/json`, so only JSON is parsed.
 * Answers, through the listener's error handler:
 * - over the limit -> 413 HOOKRELAY_BODY_TOO_LARGE, once the rest of the body has been read and
 *   dropped (an answer sent while the client still writes is lost to a reset on its side);
 * - not JSON, or JSON that is neither an object nor an array -> 400 HOOKRELAY_BAD_REQUEST;
 * - the client went away mid-body -> 400 HOOKRELAY_BODY_INCOMPLETE.
 * Whether the body has the right shape is the route's schema's business (api-schemas.ts).
 */
export function jsonBody(limitBytes: number): Middleware {
  const parse = koaBody({
    json: true,
    jsonLimit: limitBytes,
    jsonStrict: true,
    jsonTypes: ['application/json'],
    urlencoded: false,
    text: false,
    multipart: false,
  });
  return async (ctx, next) => {
    try {
      await parse(ctx, async () => {});
    } catch (error) {
      throw await bodyError(ctx.req, error, limitBytes);
    }
    ctx.request.body ??= {};
    return next();
  };
}

/** Our error for what koa-body (co-body, raw-body) threw; waits for the body's end first when it was too large. */
async function bodyError(req: IncomingMessage, error: unknown, limitBytes: number): Promise<HookrelayError> {
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (status === 413) {
    await bodyDrained(req);
    return tooLarge(limitBytes);
  }
  if (type === 'request.aborted') return new HookrelayError('HOOKRELAY_BODY_INCOMPLETE', 'request body ended early');
  if (error instanceof SyntaxError) return new HookrelayError('HOOKRELAY_BAD_REQUEST', 'the body is not a JSON object', { cause: error });
  return new HookrelayError('HOOKRELAY_BAD_REQUEST', `the body could not be read: ${(error as Error).message}`, { cause: error });
}
