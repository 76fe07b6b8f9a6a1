import type Router from '@koa/router';
import { readBody, readParams, readQuery, runParams, runRegistrationBody, runsQuery } from '../admin/api-schemas.js';
import type { RunPage } from '../admin/api-types.js';
import { jsonBody } from '../admin/json-body.js';
import { createAdminRouter } from '../admin/request-path.js';
import type { OperatorContext } from '../operator/context.js';
import { listRuns, readRunsOverview, registerRun, showRun } from '../operator/runs.js';

/** Largest registration body read. */
const JSON_BODY_LIMIT = 256 * 1024;

/**
 * The runs part of the admin JSON API (behind the admin token like the rest of /admin/api):
 * - GET  /admin/api/runs?status=&limit=&cursor=   runs newest first, `{"runs":[…],"nextCursor"}`
 * - GET  /admin/api/runs/:runId                    one run (404 when unknown)
 * - POST /admin/api/runs  {"runId":"…","app":"…"?,"project":"…"?,"metadata":{…}?}   201 recorded, 200 already known
 * - GET  /admin/api/runs-overview                  counts per status, completion rate, processing times (dashboard)
 */
export function createRunsApiRouter(operator: OperatorContext): Router {
  const router = createAdminRouter({ prefix: '/admin/api' });
  router.get('/runs-overview', async (ctx) => {
    ctx.body = await readRunsOverview(operator);
  });
  router.get('/runs', async (ctx) => {
    ctx.body = (await listRuns(operator, readQuery(ctx, runsQuery))) satisfies RunPage;
  });
  router.get('/runs/:runId', async (ctx) => {
    ctx.body = await showRun(operator, readParams(ctx, runParams).runId);
  });
  router.post('/runs', jsonBody(JSON_BODY_LIMIT), async (ctx) => {
    const { runId, app, project, metadata } = readBody(ctx, runRegistrationBody);
    const result = await registerRun(operator, { runId, app: app ?? null, project: project ?? null, metadata: metadata ?? null });
    ctx.status = result.created ? 201 : 200;
    ctx.body = result.run;
  });
  return router;
}
