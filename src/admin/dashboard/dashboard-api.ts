import type Router from '@koa/router';
import type { Config } from '../../config/load.js';
import { redactUrl } from '../../config/redact-url.js';
import { destinationNames, nowOf, type OperatorContext } from '../../operator/context.js';
import { listDeliveries, type DeliveryList } from '../../operator/deliveries.js';
import { parseSince } from '../../operator/since.js';
import type { DeliveryView } from '../../operator/views.js';
import type { AttemptBucket } from '../../store/store.js';
import { deliveriesQuery, readQuery } from '../api-schemas.js';
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
  /** Each destination's URL with its password and query values masked (as check-config prints it). */
  destinationUrls: Record<string, string>;
  sources: string[];
  tokenRequired: boolean;
}

/** A delivery of the dead-letter list with what its destination last answered. */
export interface DeliveryWithResponse extends DeliveryView {
  /** The start of the last attempt's response body; null when it had none (or no answer at all). */
  lastResponseSnippet: string | null;
}

/**
 * The little JSON the dashboard needs beyond the admin API (which serves counts, circuits,
 * events and dead letters): the attempt histogram behind the overview chart, the names for
 * the filters and the destinations' masked URLs, and deliveries with their last response (the
 * dead-letter list's "last error"). Mounted under /admin/api/dashboard so the admin token
 * check guards it like every /admin route.
 */
/** `GET /admin/api/dashboard/deliveries`: as `GET /admin/api/deliveries`, each delivery with its last response. */
export interface DeliveryWithResponseList extends Omit<DeliveryList, 'deliveries'> {
  deliveries: DeliveryWithResponse[];
}

export function createDashboardApi({ operator }: DashboardApiDeps): Router {
  const router = createAdminRouter({ prefix: '/admin/api/dashboard' });
  router.get('/attempt-history', async (ctx) => {
    ctx.body = await readAttemptHistory(operator);
  });
  router.get('/meta', (ctx) => {
    ctx.body = meta(operator.config);
  });
  // As GET /admin/api/deliveries, each with the start of its last response.
  router.get('/deliveries', async (ctx) => {
    const query = readQuery(ctx, deliveriesQuery);
    const since = query.since === undefined ? undefined : parseSince(query.since, nowOf(operator));
    const page = await listDeliveries(operator, { ...query, since });
    ctx.body = { ...page, deliveries: await withLastResponses(operator, page.deliveries) } satisfies DeliveryWithResponseList;
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

/**
 * The last attempt's response snippet of each delivery: the delivery row keeps only the status
 * (`lastError` is "HTTP 503"), the attempt log keeps what the destination said. One read per
 * delivery of a page (at most the page size, by delivery id).
 */
export async function withLastResponses(operator: OperatorContext, deliveries: readonly DeliveryView[]): Promise<DeliveryWithResponse[]> {
  return Promise.all(
    deliveries.map(async (delivery) => {
      const attempts = delivery.attempts === 0 ? [] : await operator.store.listAttempts(delivery.id);
      const last = attempts.reduce<(typeof attempts)[number] | null>((latest, attempt) => (latest && latest.number > attempt.number ? latest : attempt), null);
      return { ...delivery, lastResponseSnippet: last?.responseSnippet || null };
    }),
  );
}

function meta(config: Config): DashboardMeta {
  return {
    destinations: destinationNames(config),
    destinationUrls: Object.fromEntries(config.destinations.map((destination) => [destination.name, redactUrl(destination.url)])),
    sources: config.sources.map((source) => source.name),
    tokenRequired: (config.admin?.token ?? '').length > 0,
  };
}
