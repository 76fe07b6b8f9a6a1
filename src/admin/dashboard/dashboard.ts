import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { OperatorContext } from '../../operator/context.js';
import { createDashboardApi } from './dashboard-api.js';
import { createDashboardRoutes } from './routes.js';
import { createDashboardSession, type DashboardSession } from './session.js';

export interface DashboardDeps {
  operator: OperatorContext;
}

export interface Dashboard {
  /** Session cookie checks; the admin token middleware accepts `session.allowsCookieRequest`. */
  session: DashboardSession;
  /** `GET /`, `POST /login`, `POST /logout`, `/assets/*`: mount BEFORE the admin token check. */
  pages: Middleware;
  /** `/admin/api/dashboard/*` (attempt history, filter names): mount AFTER the admin token check. */
  api: Middleware;
  /** Every router of the dashboard (pages, then API): what it serves, for listings and tests. */
  routers: readonly Router[];
}

/** The dashboard on the admin listener: its pages, its session, and its read-only API. */
export function createDashboard({ operator }: DashboardDeps): Dashboard {
  const session = createDashboardSession(operator.config.admin?.token ?? '');
  const pages = createDashboardRoutes({ session, now: operator.now });
  const api = createDashboardApi({ operator });
  return { session, pages: pages.middleware, api: api.routes() as Middleware, routers: [pages.router, api] };
}
