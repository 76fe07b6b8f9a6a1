import type { Middleware } from 'koa';
import type { BreakerState } from '../../delivery/observer.js';
import type { OperatorContext } from '../../operator/context.js';
import { createDashboardApi } from './dashboard-api.js';
import { createDashboardRoutes } from './routes.js';
import { createDashboardSession, type DashboardSession } from './session.js';

export interface DashboardDeps {
  operator: OperatorContext;
  breakerStates?: () => Record<string, BreakerState>;
}

export interface Dashboard {
  /** Session cookie checks; the admin token middleware accepts `session.allowsCookieRequest`. */
  session: DashboardSession;
  /** `GET /`, `POST /login`, `POST /logout`, `/assets/*`: mount BEFORE the admin token check. */
  pages: Middleware;
  /** `/admin/api/dashboard/*` (overview, meta, event search): mount AFTER the admin token check. */
  api: Middleware;
}

/** The dashboard on the admin listener: its pages, its session, and its read-only API. */
export function createDashboard({ operator, breakerStates }: DashboardDeps): Dashboard {
  const session = createDashboardSession(operator.config.admin?.token ?? '');
  return {
    session,
    pages: createDashboardRoutes({ session, now: operator.now }),
    api: createDashboardApi({ operator, breakerStates }),
  };
}
