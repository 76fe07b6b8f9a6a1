import { join } from 'node:path';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { HookrelayError } from '../../errors.js';
import { loginBody, readBody } from '../api-schemas.js';
import { jsonBody } from '../json-body.js';
import { createAdminRouter } from '../request-path.js';
import { loginPage } from './login-page.js';
import { isSameOrigin, type DashboardSession } from './session.js';
import { loadStaticAssets } from './static-assets.js';

/** The sign-in posts a few bytes of JSON; anything larger is not a sign-in. */
const LOGIN_BODY_LIMIT = 4096;

/**
 * Every page may load only what the relay serves itself: no CDN, no inline script, and it
 * cannot be framed (clickjacking on the Replay button).
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // Not `no-referrer`: with it Chromium sends `Origin: null` on form posts, and the sign-in
  // form's same-origin check needs the real origin.
  'Referrer-Policy': 'same-origin',
};

export interface DashboardRoutesDeps {
  session: DashboardSession;
  /** Folder holding index.html and the assets; defaults to the one next to this file. */
  root?: string;
  now?: () => number;
}

/**
 * The dashboard on the admin listener:
 * - `GET /` the page shell (no data in it: its scripts fetch /admin/api with the session
 *   cookie), or the token form while a token is configured and no valid session is present;
 * - `POST /login` (`{"token":"…"}`, JSON like every state-changing request on the admin
 *   listener: the token form's script sends it) checks the token (constant time) and sets the
 *   HttpOnly, SameSite=Strict session cookie: 204, or 401 for a wrong token;
 *   `POST /logout` clears it (204);
 * - `GET /assets/*` the scripts, style sheet and icon, from memory.
 */
export interface DashboardPages {
  middleware: Middleware;
  /** The router of `/`, `/login`, `/logout` (its `stack` lists them; assets are served beside it). */
  router: Router;
}

export function createDashboardRoutes({ session, root = import.meta.dirname, now = Date.now }: DashboardRoutesDeps): DashboardPages {
  const assets = loadStaticAssets(join(root, 'assets'));
  const shell = assets.get('index.html');
  if (!shell) throw new Error(`dashboard index.html missing under ${root}/assets`);
  const router = createAdminRouter();

  router.get('/', (ctx) => {
    ctx.set(SECURITY_HEADERS);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/html; charset=utf-8';
    if (session.required && !session.hasValidCookie(ctx, now())) {
      ctx.status = 401;
      ctx.body = loginPage();
      return;
    }
    ctx.body = shell.body;
  });

  // Where the request comes from is checked before its body is read.
  router.post('/login', refuseCrossSite, jsonBody(LOGIN_BODY_LIMIT), (ctx) => {
    const { token } = readBody(ctx, loginBody);
    if (session.required && !session.tokenMatches(token)) {
      throw new HookrelayError('HOOKRELAY_UNAUTHORIZED', 'that token is not the admin token');
    }
    if (session.required) session.issueCookie(ctx, now());
    ctx.status = 204;
  });

  router.post('/logout', refuseCrossSite, (ctx) => {
    session.clearCookie(ctx);
    ctx.status = 204;
  });

  const serveAsset: Middleware = async (ctx, next) => {
    const name = ctx.path.startsWith('/assets/') ? ctx.path.slice('/assets/'.length) : null;
    const asset = name === null || name === 'index.html' ? undefined : assets.get(name);
    if (!asset || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set(SECURITY_HEADERS);
    ctx.set('ETag', asset.etag);
    ctx.set('Cache-Control', 'no-cache');
    if (ctx.get('If-None-Match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = asset.contentType;
    ctx.body = asset.body;
  };

  const routes = router.routes() as Middleware;
  return { middleware: (ctx, next) => serveAsset(ctx, () => routes(ctx, next)), router };
}

/**
 * Sign-in and sign-out answers are never cached, and are refused to another origin:
 * Sec-Fetch-Site says more than Origin about where a request comes from (e.g. a sibling port).
 */
const refuseCrossSite: Middleware = (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  if (!isSameOrigin(ctx.req.headers)) {
    throw new HookrelayError('HOOKRELAY_ORIGIN_NOT_ALLOWED', 'cross-origin sign-in and sign-out are refused');
  }
  return next();
};
