import type { Server } from 'node:http';
import type Router from '@koa/router';
import Koa, { type Context, type Middleware } from 'koa';
import type { Config } from '../config/load.js';
import type { BreakerState } from '../delivery/observer.js';
import { errorBody, httpStatusFor, HookrelayError } from '../errors.js';
import { createHttpListener, KEEP_ALIVE_DRAIN_MS, type ListenHandle } from '../http/listener.js';
import type { Logger } from '../log.js';
import type { OperatorContext } from '../operator/context.js';
import { createApiRouter } from './api-routes.js';
import { adminAuth } from './auth.js';
import { browserPolicy } from './browser-policy.js';
import type { RelayMetrics } from './metrics.js';
import { createAdminRouter, refuseNonCanonicalPaths } from './request-path.js';

export interface AdminAppDeps {
  config: Config;
  store: OperatorContext['store'];
  logger: Logger;
  metrics: RelayMetrics;
  /** Current circuit breaker state per destination (the running dispatcher's). */
  breakerStates?: () => Record<string, BreakerState>;
  /** Lets a request without the bearer token through /admin/* (the dashboard's session cookie). */
  allowRequest?: (ctx: Context) => boolean;
  /** Middleware mounted after /metrics and /admin/api (e.g. the dashboard's pages and assets). */
  routes?: readonly Middleware[];
  /** Path prefixes among `routes` that forward requests as they come (any content type; see browserPolicy). */
  forwardedPrefixes?: readonly string[];
  now?: () => number;
}

export interface AdminApp {
  app: Koa;
  /**
   * The router holding `GET /metrics` and `/admin/api/*`. Routes added to it later are served
   * too; a route under /admin/ is behind the token like the API.
   */
  router: Router;
}

/** After the keep-alive drain, how long admin requests in progress may take to finish on shutdown (they are short reads). */
const CLOSE_GRACE_MS = 2_000;

/**
 * The admin listener's Koa app: `GET /metrics` (Prometheus text, no token), the JSON API under
 * `/admin/api` (bearer token when `admin.token` is set), then any extra `routes`. Errors are
 * answered as `{"error":{"code","message"}}` with the code's HTTP status.
 */
export function createAdminApp(deps: AdminAppDeps): AdminApp {
  const { config, store, logger, metrics } = deps;
  const log = logger.child({ component: 'admin' });
  const app = new Koa({ proxy: false });
  const router = createAdminRouter();

  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HookrelayError('HOOKRELAY_NOT_FOUND', `nothing at ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      ctx.status = httpStatusFor(error);
      ctx.body = errorBody(error);
      if (ctx.status >= 500) log.error({ err: error, path: ctx.path }, 'admin request failed');
    }
  });
  // In this order: one spelling per path, then what a browser page could forge, then the token.
  const token = config.admin?.token ?? '';
  app.use(refuseNonCanonicalPaths());
  app.use(browserPolicy({ tokenRequired: token !== '', allowedHosts: config.admin?.allowedHosts ?? [], forwardedPrefixes: deps.forwardedPrefixes }));
  app.use(adminAuth({ token, allowRequest: deps.allowRequest }));

  router.get('/metrics', async (ctx) => {
    let rendered;
    try {
      rendered = await metrics.render();
    } catch (error) {
      throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', 'metrics could not be read from storage', { cause: error });
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = rendered.contentType;
    ctx.body = rendered.body;
  });

  const api = createApiRouter({ operator: { config, store, now: deps.now }, breakerStates: deps.breakerStates });
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  for (const middleware of deps.routes ?? []) app.use(middleware);
  return { app, router };
}

export interface AdminListener extends AdminApp {
  readonly server: Server;
  /** Starts listening on `admin.host`/`admin.port`, or on a handed-over `handle`; resolves with the bound port. */
  listen(handle?: ListenHandle): Promise<number>;
  /** Stops accepting, lets requests in progress finish briefly, then closes every connection. */
  close(): Promise<void>;
}

export function createAdminListener(deps: AdminAppDeps): AdminListener {
  const settings = deps.config.admin;
  if (!settings) throw new HookrelayError('HOOKRELAY_CONFIG_INVALID', 'admin: not configured');
  const admin = createAdminApp(deps);
  const handler = admin.app.callback();
  const listener = createHttpListener((req, res) => void handler(req, res), {
    host: settings.host,
    port: settings.port,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
  });

  return {
    ...admin,
    server: listener.server,
    listen: listener.listen,
    // On a reload the listening socket lives on in the next relay process, so nothing else is refused.
    close: () => listener.close({ graceMs: KEEP_ALIVE_DRAIN_MS + CLOSE_GRACE_MS }),
  };
}
