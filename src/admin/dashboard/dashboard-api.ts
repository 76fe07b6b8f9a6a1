import type Router from '@koa/router';
import type { Config } from '../../config/load.js';
import { destinationNames, nowOf, type OperatorContext } from '../../operator/context.js';
import type { AttemptBucket } from '../../store/store.js';
import { createAdminRouter } from '../request-path.js';

/** The overview chart: the last hour in 5-minute bars. */
export const CHART_BUCKET_MS = 5 * 60 * 1000;
export const CHART_BUCKETS = 12;

export interface DashboardApiDeps {
  operator: OperatorContext;
}

export interface AttemptHistory {
  /** Unix ms; `since`..`until` is the chart's window (the last hour), aligned to `bucketMs`. */
  since: number;
  until: number;
  bucketMs: number;
  buckets: AttemptBucket[];
}

export interface DashboardMeta {
  destinations: string[];
  sources: string[];
  tokenRequired: boolean;
}

/**
 * The little JSON the dashboard needs beyond the admin API (which serves counts, circuits,
 * events and dead letters): the attempt histogram behind the overview chart and the names for
 * the filters. Mounted under /admin/api/dashboard so the admin token check guards it like
 * every /admin route.
 */
export function createDashboardApi({ operator }: DashboardApiDeps): Router {
  const router = createAdminRouter({ prefix: '/admin/api/dashboard' });
  router.get('/attempt-history', async (ctx) => {
    ctx.body = await readAttemptHistory(operator);
  });
  router.get('/meta', (ctx) => {
    ctx.body = meta(operator.config);
  });
  return router;
}

/** Delivered and failed attempts per destination over the last hour, in 5-minute buckets. */
export async function readAttemptHistory(operator: OperatorContext): Promise<AttemptHistory> {
  const now = nowOf(operator);
  const since = Math.floor(now / CHART_BUCKET_MS) * CHART_BUCKET_MS - (CHART_BUCKETS - 1) * CHART_BUCKET_MS;
  const buckets = await operator.store.attemptHistogram(since, CHART_BUCKET_MS);
  return { since, until: since + CHART_BUCKETS * CHART_BUCKET_MS, bucketMs: CHART_BUCKET_MS, buckets };
}

function meta(config: Config): DashboardMeta {
  return {
    destinations: destinationNames(config),
    sources: config.sources.map((source) => source.name),
    tokenRequired: (config.admin?.token ?? '').length > 0,
  };
}
