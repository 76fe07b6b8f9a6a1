import type Router from '@koa/router';
import { badRequest, isPlainObject, queryString, readJsonObject } from '../admin/json-request.js';
import { createAdminRouter } from '../admin/request-path.js';
import type { OperatorContext } from '../operator/context.js';
import { listRuns, parseRunStatus, readRunsOverview, registerRun, showRun } from '../operator/runs.js';

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
    const limit = queryString(ctx, 'limit');
    if (limit !== undefined && !/^\d{1,9}$/.test(limit)) throw badRequest('limit: expected a positive integer');
    ctx.body = await listRuns(operator, {
      status: parseRunStatus(queryString(ctx, 'status')),
      limit: limit === undefined ? undefined : Number(limit),
      cursor: queryString(ctx, 'cursor'),
    });
  });
  router.get('/runs/:runId', async (ctx) => {
    ctx.body = await showRun(operator, ctx.params.runId!);
  });
  router.post('/runs', async (ctx) => {
    const body = await readJsonObject(ctx, JSON_BODY_LIMIT);
    const { runId, app, project, metadata } = body;
    if (typeof runId !== 'string' || runId === '') throw badRequest('runId: expected a non-empty string');
    if (app !== undefined && app !== null && typeof app !== 'string') throw badRequest('app: expected a string');
    if (project !== undefined && project !== null && typeof project !== 'string') throw badRequest('project: expected a string');
    if (metadata !== undefined && metadata !== null && !isPlainObject(metadata)) throw badRequest('metadata: expected a JSON object');
    const result = await registerRun(operator, {
      runId,
      app: (app as string | null | undefined) ?? null,
      project: (project as string | null | undefined) ?? null,
      metadata: (metadata as Record<string, unknown> | null | undefined) ?? null,
    });
    ctx.status = result.created ? 201 : 200;
    ctx.body = result.run;
  });
  return router;
}
