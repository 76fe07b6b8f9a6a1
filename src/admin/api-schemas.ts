import type { Context } from 'koa';
import { z } from 'zod';
import { HookrelayError } from '../errors.js';

/**
 * What each route of the admin listener accepts in its JSON body and its query string, as zod
 * schemas. A request that does not fit is answered 400 HOOKRELAY_BAD_REQUEST naming the first
 * field that does not (`eventId: expected a non-empty string`). Unknown fields are ignored.
 */

export function badRequest(message: string): HookrelayError {
  return new HookrelayError('HOOKRELAY_BAD_REQUEST', message);
}

/** A JSON object: not an array, not null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const jsonBodyObject = <Shape extends z.ZodRawShape>(shape: Shape) => z.object(shape, { error: 'the body must be a JSON object' });
const nonEmptyString = z.string({ error: 'expected a non-empty string' }).min(1, { error: 'expected a non-empty string' });
const aString = z.string({ error: 'expected a string' });
const trueOrFalse = z.boolean({ error: 'expected true or false' });
const jsonObject = z.record(z.string(), z.unknown(), { error: 'expected a JSON object' });

/** `POST /admin/api/replay`: the CLI's selectors (`replay --id… | --destination | --all`, `--since`, `--dry-run`). */
export const replayBody = jsonBodyObject({
  ids: z.array(z.string({ error: 'expected an array of delivery ids' }), { error: 'expected an array of delivery ids' }).optional(),
  destination: aString.optional(),
  all: trueOrFalse.optional(),
  since: z.union([z.string(), z.number()], { error: 'expected a duration or an ISO-8601 time' }).nullish(),
  dryRun: trueOrFalse.optional(),
});

/** `POST /admin/api/redeliver`. */
export const redeliverBody = jsonBodyObject({
  eventId: nonEmptyString,
  destination: aString.nullish(),
});

/** `POST /admin/api/runs`: a run submitted elsewhere. */
export const runRegistrationBody = jsonBodyObject({
  runId: nonEmptyString,
  app: aString.nullish(),
  project: aString.nullish(),
  metadata: jsonObject.nullish(),
});

/** `POST /login` (the dashboard's token form). */
export const loginBody = jsonBodyObject({
  token: aString,
});

/** A query parameter's last value when repeated; absent or empty (`?limit=`) reads as not given. */
function lastValue(value: unknown): unknown {
  const single = Array.isArray(value) ? value[value.length - 1] : value;
  return single === '' ? undefined : single;
}

const queryText = z.preprocess(lastValue, z.string().optional());
/** Up to 9 digits, so it stays a safe integer. */
const queryCount = z.preprocess(lastValue, z.string().regex(/^\d{1,9}$/, { error: 'expected a positive integer' }).transform(Number).optional());

/** `GET /admin/api/events`. */
export const eventsQuery = z.object({ query: queryText, source: queryText, limit: queryCount, cursor: queryText });

/** `GET /admin/api/deliveries`; `since` is read by `parseSince`. */
export const deliveriesQuery = z.object({
  status: queryText,
  destination: queryText,
  source: queryText,
  since: queryText,
  limit: queryCount,
  cursor: queryText,
});

/** `GET /admin/api/dead-letters`; `since` is read by `parseSince`. */
export const deadLettersQuery = z.object({ destination: queryText, source: queryText, since: queryText, limit: queryCount, cursor: queryText });

/** `GET /admin/api/runs`; `status` is read by `parseRunStatus`. */
export const runsQuery = z.object({ status: queryText, limit: queryCount, cursor: queryText });

/** The request's JSON body (parsed by `jsonBody` before the route) as `schema` states it; 400 otherwise. */
export function readBody<Schema extends z.ZodType>(ctx: Context, schema: Schema): z.output<Schema> {
  return parsed(schema, ctx.request.body);
}

/** The request's query string as `schema` states it; 400 otherwise. */
export function readQuery<Schema extends z.ZodType>(ctx: Context, schema: Schema): z.output<Schema> {
  return parsed(schema, ctx.query);
}

function parsed<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // The top-level field: `ids: …` also for a wrong element of `ids`.
  throw badRequest(issue.path.length === 0 ? issue.message : `${String(issue.path[0])}: ${issue.message}`);
}
