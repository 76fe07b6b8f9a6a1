import type Router from '@koa/router';
import type { Context } from 'koa';
import type { BreakerState } from '../delivery/observer.js';
import type { OperatorContext } from '../operator/context.js';
import { listDeadLetters } from '../operator/dead-letters.js';
import { listDeliveries, showDelivery } from '../operator/deliveries.js';
import { getEventDetail, searchEvents } from '../operator/events.js';
import { redeliverEvent } from '../operator/redeliver.js';
import { replayDeadLetters, type ReplayRequest } from '../operator/replay.js';
import { parseSince } from '../operator/since.js';
import { readStats } from '../operator/stats.js';
import { badRequest, queryInt, queryString, readJsonObject } from './json-request.js';
import { createAdminRouter } from './request-path.js';

/** Largest JSON body the API reads (a replay of many ids fits easily). */
const JSON_BODY_LIMIT = 4 * 1024 * 1024;

export interface ApiRoutesDeps {
  operator: OperatorContext;
  /** Current circuit breaker state per destination (from the running dispatcher). */
  breakerStates?: () => Record<string, BreakerState>;
}

/**
 * The admin JSON API under /admin/api: the operator operations, nothing of its own.
 * - GET  /events?query=&source=&limit=&cursor=   events newest first; `query` = dedupe key (run_id) or event id, or the start of one
 * - GET  /events/:id                             the event with its deliveries and their attempts
 * - GET  /deliveries?status=&destination=&source=&since=&limit=&cursor=
 * - GET  /deliveries/:id                         the delivery with its attempt log
 * - GET  /dead-letters?destination=&source=&since=&limit=&cursor=   as `dlq list --json`
 * - GET  /stats                                  as `stats --json`, plus `circuits` and `quarantined` ({source: N})
 * - POST /replay     {"ids":[…]} | {"destination":"…"} | {"all":true}, optional "since", "dryRun"
 * - POST /redeliver  {"eventId":"…","destination":"…"?}
 */
export function createApiRouter({ operator, breakerStates }: ApiRoutesDeps): Router {
  const router = createAdminRouter({ prefix: '/admin/api' });
  const now = () => (operator.now ?? Date.now)();

  router.get('/events', async (ctx) => {
    ctx.body = await searchEvents(operator, {
      query: queryString(ctx, 'query'),
      source: queryString(ctx, 'source'),
      limit: queryInt(ctx, 'limit'),
      cursor: queryString(ctx, 'cursor'),
    });
  });
  router.get('/events/:id', async (ctx) => {
    ctx.body = await getEventDetail(operator, ctx.params.id!);
  });
  router.get('/deliveries', async (ctx) => {
    ctx.body = await listDeliveries(operator, {
      status: queryString(ctx, 'status'),
      destination: queryString(ctx, 'destination'),
      source: queryString(ctx, 'source'),
      since: querySince(ctx, 'since', now()),
      limit: queryInt(ctx, 'limit'),
      cursor: queryString(ctx, 'cursor'),
    });
  });
  router.get('/deliveries/:id', async (ctx) => {
    ctx.body = await showDelivery(operator, ctx.params.id!);
  });
  router.get('/dead-letters', async (ctx) => {
    ctx.body = await listDeadLetters(operator, {
      destination: queryString(ctx, 'destination'),
      source: queryString(ctx, 'source'),
      since: querySince(ctx, 'since', now()),
      limit: queryInt(ctx, 'limit'),
      cursor: queryString(ctx, 'cursor'),
    });
  });
  router.get('/stats', async (ctx) => {
    ctx.body = {
      ...(await readStats(operator)),
      ...(breakerStates ? { circuits: breakerStates() } : {}),
      quarantined: await operator.store.quarantineCounts(),
    };
  });
  router.post('/replay', async (ctx) => {
    const body = await readJsonObject(ctx, JSON_BODY_LIMIT);
    ctx.body = await replayDeadLetters(operator, replayRequestOf(body, now()));
  });
  router.post('/redeliver', async (ctx) => {
    const body = await readJsonObject(ctx, JSON_BODY_LIMIT);
    const eventId = body.eventId;
    if (typeof eventId !== 'string' || eventId === '') throw badRequest('eventId: expected a non-empty string');
    const destination = body.destination;
    if (destination !== undefined && destination !== null && typeof destination !== 'string') {
      throw badRequest('destination: expected a string');
    }
    ctx.body = await redeliverEvent(operator, { eventId, destination: destination ?? undefined });
  });
  return router;
}

function replayRequestOf(body: Record<string, unknown>, now: number): ReplayRequest {
  const request: ReplayRequest = {};
  if (body.ids !== undefined) {
    if (!Array.isArray(body.ids) || !body.ids.every((id) => typeof id === 'string')) throw badRequest('ids: expected an array of delivery ids');
    request.ids = body.ids as string[];
  }
  if (body.destination !== undefined) {
    if (typeof body.destination !== 'string') throw badRequest('destination: expected a string');
    request.destination = body.destination;
  }
  if (body.all !== undefined) {
    if (typeof body.all !== 'boolean') throw badRequest('all: expected true or false');
    request.all = body.all;
  }
  if (body.since !== undefined && body.since !== null) {
    if (typeof body.since !== 'string' && typeof body.since !== 'number') throw badRequest('since: expected a duration or an ISO-8601 time');
    request.since = parseSince(body.since, now);
  }
  if (body.dryRun !== undefined) {
    if (typeof body.dryRun !== 'boolean') throw badRequest('dryRun: expected true or false');
    request.dryRun = body.dryRun;
  }
  return request;
}

function querySince(ctx: Context, name: string, now: number): number | undefined {
  const value = queryString(ctx, name);
  return value === undefined ? undefined : parseSince(value, now);
}
