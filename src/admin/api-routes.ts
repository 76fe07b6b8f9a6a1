import type Router from '@koa/router';
import type { BreakerState } from '../delivery/observer.js';
import type { OperatorContext } from '../operator/context.js';
import { listDeadLetters } from '../operator/dead-letters.js';
import { listDeliveries, showDelivery } from '../operator/deliveries.js';
import { getEventDetail, searchEvents } from '../operator/events.js';
import { redeliverEvent } from '../operator/redeliver.js';
import { replayDeadLetters } from '../operator/replay.js';
import { parseSince } from '../operator/since.js';
import { readStats } from '../operator/stats.js';
import { deadLettersQuery, deliveriesQuery, eventsQuery, idParams, readBody, readParams, readQuery, redeliverBody, replayBody } from './api-schemas.js';
import type { StatsAnswer } from './api-types.js';
import { jsonBody } from './json-body.js';
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
 *                                                each with `deliveries` {destination: status}
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
    ctx.body = await searchEvents(operator, readQuery(ctx, eventsQuery));
  });
  router.get('/events/:id', async (ctx) => {
    ctx.body = await getEventDetail(operator, readParams(ctx, idParams).id);
  });
  router.get('/deliveries', async (ctx) => {
    const query = readQuery(ctx, deliveriesQuery);
    ctx.body = await listDeliveries(operator, { ...query, since: sinceOf(query.since, now()) });
  });
  router.get('/deliveries/:id', async (ctx) => {
    ctx.body = await showDelivery(operator, readParams(ctx, idParams).id);
  });
  router.get('/dead-letters', async (ctx) => {
    const query = readQuery(ctx, deadLettersQuery);
    ctx.body = await listDeadLetters(operator, { ...query, since: sinceOf(query.since, now()) });
  });
  router.get('/stats', async (ctx) => {
    ctx.body = {
      ...(await readStats(operator)),
      ...(breakerStates ? { circuits: breakerStates() } : {}),
      quarantined: await operator.store.quarantineCounts(),
    } satisfies StatsAnswer;
  });
  router.post('/replay', jsonBody(JSON_BODY_LIMIT), async (ctx) => {
    const { since, ...selectors } = readBody(ctx, replayBody);
    ctx.body = await replayDeadLetters(operator, { ...selectors, since: sinceOf(since, now()) });
  });
  router.post('/redeliver', jsonBody(JSON_BODY_LIMIT), async (ctx) => {
    const { eventId, destination } = readBody(ctx, redeliverBody);
    ctx.body = await redeliverEvent(operator, { eventId, destination: destination ?? undefined });
  });
  return router;
}

/** A `since` as the CLI takes it (a duration or an ISO-8601 time) in unix ms; not given -> undefined. */
function sinceOf(value: string | number | null | undefined, now: number): number | undefined {
  return value === undefined || value === null ? undefined : parseSince(value, now);
}
