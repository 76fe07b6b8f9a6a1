import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Config } from '../../config/load.js';
import type { BreakerState } from '../../delivery/observer.js';
import { destinationNames, nowOf, type OperatorContext } from '../../operator/context.js';
import { searchEvents } from '../../operator/events.js';
import { readStats, type StatsView } from '../../operator/stats.js';
import type { AttemptBucket } from '../../store/store.js';

/** The overview chart: the last hour in 5-minute bars. */
export const CHART_BUCKET_MS = 5 * 60 * 1000;
export const CHART_BUCKETS = 12;

export interface DashboardApiDeps {
  operator: OperatorContext;
  /** Circuit breaker state per destination, from the running dispatcher. */
  breakerStates?: () => Record<string, BreakerState>;
}

export interface Overview {
  /** Unix ms; `since`..`until` is the chart's window (the last hour), aligned to `bucketMs`. */
  since: number;
  until: number;
  bucketMs: number;
  stats: StatsView;
  breakers: Record<string, BreakerState>;
  histogram: AttemptBucket[];
}

export interface DashboardMeta {
  destinations: string[];
  sources: string[];
  tokenRequired: boolean;
}

/**
 * The read-only JSON the dashboard needs beyond the admin API's contract routes, mounted
 * under /admin/api/dashboard so the admin token check guards it like every /admin route.
 * Built on the shared operator operations (stats, event search); adds the breaker states and
 * the attempt histogram that only the dashboard shows.
 */
export function createDashboardApi({ operator, breakerStates = () => ({}) }: DashboardApiDeps): Middleware {
  const router = new Router({ prefix: '/admin/api/dashboard' });

  router.get('/overview', async (ctx) => {
    ctx.body = await readOverview(operator, breakerStates);
  });

  router.get('/meta', (ctx) => {
    ctx.body = meta(operator.config);
  });

  router.get('/events', async (ctx) => {
    const limit = Number(ctx.query.limit ?? 50);
    const before = ctx.query.before === undefined ? undefined : Number(ctx.query.before);
    ctx.body = await searchEvents(operator, {
      query: typeof ctx.query.q === 'string' ? ctx.query.q.trim() : undefined,
      source: typeof ctx.query.source === 'string' ? ctx.query.source : undefined,
      limit: Number.isInteger(limit) ? limit : 50,
      before: before !== undefined && Number.isFinite(before) ? before : undefined,
    });
  });

  return router.routes() as Middleware;
}

export async function readOverview(operator: OperatorContext, breakerStates: () => Record<string, BreakerState>): Promise<Overview> {
  const now = nowOf(operator);
  const since = Math.floor(now / CHART_BUCKET_MS) * CHART_BUCKET_MS - (CHART_BUCKETS - 1) * CHART_BUCKET_MS;
  const [stats, histogram] = await Promise.all([readStats(operator), operator.store.attemptHistogram(since, CHART_BUCKET_MS)]);
  const states = breakerStates();
  const breakers = Object.fromEntries(destinationNames(operator.config).map((name) => [name, states[name] ?? 'closed'])) as Record<
    string,
    BreakerState
  >;
  return { since, until: since + CHART_BUCKETS * CHART_BUCKET_MS, bucketMs: CHART_BUCKET_MS, stats, breakers, histogram };
}

function meta(config: Config): DashboardMeta {
  return {
    destinations: destinationNames(config),
    sources: config.sources.map((source) => source.name),
    tokenRequired: (config.admin?.token ?? '').length > 0,
  };
}
