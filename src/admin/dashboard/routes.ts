import { join } from 'node:path';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { readRawBody } from '../../ingress/read-body.js';
import { loginPage } from './login-page.js';
import { isSameOrigin, type DashboardSession } from './session.js';
import { loadStaticAssets } from './static-assets.js';

/** The token form posts a few bytes; anything larger is not a sign-in. */
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
 * - `POST /login` checks the token (constant time) and sets the HttpOnly, SameSite=Strict
 *   session cookie; `POST /logout` clears it;
 * - `GET /assets/*` the scripts, style sheet and icon, from memory.
 */
export function createDashboardRoutes({ session, root = import.meta.dirname, now = Date.now }: DashboardRoutesDeps): Middleware {
  const assets = loadStaticAssets(join(root, 'assets'));
  const shell = assets.get('index.html');
  if (!shell) throw new Error(`dashboard index.html missing under ${root}/assets`);
  const router = new Router();

  router.get('/', (ctx) => {
    ctx.set(SECURITY_HEADERS);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/html; charset=utf-8';
    if (session.required && !session.hasValidCookie(ctx.req.headers, now())) {
      ctx.status = 401;
      ctx.body = loginPage({ wrongToken: false });
      return;
    }
    ctx.body = shell.body;
  });

  router.post('/login', async (ctx) => {
    ctx.set(SECURITY_HEADERS);
    ctx.set('Cache-Control', 'no-store');
    if (!isSameOrigin(ctx.req.headers)) {
      ctx.status = 403;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'cross-origin sign-in refused';
      return;
    }
    let token = '';
    try {
      token = new URLSearchParams((await readRawBody(ctx.req, LOGIN_BODY_LIMIT)).toString('utf8')).get('token') ?? '';
    } catch {
      token = '';
    }
    if (!session.required) {
      ctx.redirect('/');
      ctx.status = 303;
      return;
    }
    if (!session.tokenMatches(token)) {
      ctx.status = 401;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = loginPage({ wrongToken: true });
      return;
    }
    ctx.set('Set-Cookie', session.issueCookie(now()));
    ctx.redirect('/');
    ctx.status = 303;
  });

  router.post('/logout', (ctx) => {
    if (!isSameOrigin(ctx.req.headers)) {
      ctx.status = 403;
      return;
    }
    ctx.set('Set-Cookie', session.clearCookie());
    ctx.redirect('/');
    ctx.status = 303;
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
  return (ctx, next) => serveAsset(ctx, () => routes(ctx, next));
}
