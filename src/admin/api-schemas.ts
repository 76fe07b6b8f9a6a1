import type { Context } from 'koa';
// `ctx.request.body`, set by json-body.ts's koa-body.
import type {} from 'koa-body';
import { z } from 'zod';
import { formatKeyPath } from '../config/key-path.js';
import { HookrelayError } from '../errors.js';
import { RUN_STATUSES } from '../glossary.js';

/**
 * What each route of the admin listener accepts in its path, its query string and its JSON
 * body, as zod schemas (the types of what it answers are in api-types.ts). A request that does
 * not fit is answered 400 HOOKRELAY_BAD_REQUEST naming each key that does not, by its path as
 * config errors name keys (`eventId: expected a non-empty string`, `ids[1]: expected a delivery
 * id (a string)`). Unknown fields are ignored.
 */

export function badRequest(message: string): HookrelayError {
  return new HookrelayError('HOOKRELAY_BAD_REQUEST', message);
}

const jsonBodyObject = <Shape extends z.ZodRawShape>(shape: Shape) => z.object(shape, { error: 'the body must be a JSON object' });
const nonEmptyString = z.string({ error: 'expected a non-empty string' }).min(1, { error: 'expected a non-empty string' });
const aString = z.string({ error: 'expected a string' });
const trueOrFalse = z.boolean({ error: 'expected true or false' });
const jsonObject = z.record(z.string(), z.unknown(), { error: 'expected a JSON object' });

/** `POST /admin/api/replay`: the CLI's selectors (`replay --id… | --destination | --all`, `--since`, `--dry-run`). */
export const replayBody = jsonBodyObject({
  ids: z.array(z.string({ error: 'expected a delivery id (a string)' }), { error: 'expected an array of delivery ids' }).optional(),
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

/** `POST /cerebrium/…`'s optional `X-Hookrelay-Metadata` header: a JSON object, as text. */
export const runMetadataHeader = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
      return z.NEVER;
    }
  })
  .pipe(jsonObject);

/** `POST /login` (the dashboard's token form). */
export const loginBody = jsonBodyObject({
  token: aString,
});

/** `GET /admin/api/events/:id` (`id`: an event id) and `GET /admin/api/deliveries/:id` (a delivery id). */
export const idParams = z.object({ id: nonEmptyString });

/** `GET /admin/api/runs/:runId`. */
export const runParams = z.object({ runId: nonEmptyString });

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

/** `GET /admin/api/deliveries`; `status` is checked by `listDeliveries` and `since` read by `parseSince`, as for the CLI (HOOKRELAY_USAGE). */
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

/** `GET /admin/api/runs`. */
export const runsQuery = z.object({
  status: z.preprocess(lastValue, z.enum(RUN_STATUSES, { error: `expected one of ${RUN_STATUSES.join(', ')}` }).optional()),
  limit: queryCount,
  cursor: queryText,
});

/** The request's JSON body (parsed by `jsonBody` before the route) as `schema` states it; 400 otherwise. */
export function readBody<Schema extends z.ZodType>(ctx: Context, schema: Schema): z.output<Schema> {
  return parsed(schema, ctx.request.body);
}

/** The request's query string as `schema` states it; 400 otherwise. */
export function readQuery<Schema extends z.ZodType>(ctx: Context, schema: Schema): z.output<Schema> {
  return parsed(schema, ctx.query);
}

/** The route's path parameters (decoded by the router) as `schema` states them; 400 otherwise. */
export function readParams<Schema extends z.ZodType>(ctx: Context & { params?: Record<string, string> }, schema: Schema): z.output<Schema> {
  return parsed(schema, ctx.params ?? {});
}

/** `value` as `schema` states it, else 400 HOOKRELAY_BAD_REQUEST naming each key that does not fit. */
export function parsed<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(result.error.issues.map(issueText).join('; '));
}

/** `key.path[2]: what was expected`; a problem with the whole value (not an object) is its message alone. */
function issueText(issue: z.core.$ZodIssue): string {
  return issue.path.length === 0 ? issue.message : `${formatKeyPath(issue.path)}: ${issue.message}`;
}
