import type { Context } from 'koa';
import { HookrelayError } from '../errors.js';
import { readRawBody } from '../ingress/read-body.js';

/** The admin listener's reading of request bodies and query strings, shared by its JSON routes. */

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request's body as a JSON object (an empty body is `{}`); 400 HOOKRELAY_BAD_REQUEST otherwise. */
export async function readJsonObject(ctx: Context, limitBytes: number): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx.req, limitBytes);
  let value: unknown;
  try {
    value = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  if (!isPlainObject(value)) throw badRequest('the body must be a JSON object');
  return value;
}

/** The query parameter's last value; undefined when absent or empty. */
export function queryString(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  const single = Array.isArray(value) ? value[value.length - 1] : value;
  return single === undefined || single === '' ? undefined : single;
}

/** A positive integer query parameter (up to 9 digits); 400 otherwise. */
export function queryInt(ctx: Context, name: string): number | undefined {
  const value = queryString(ctx, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw badRequest(`${name}: expected a positive integer`);
  return Number(value);
}

export function badRequest(message: string): HookrelayError {
  return new HookrelayError('HOOKRELAY_BAD_REQUEST', message);
}
