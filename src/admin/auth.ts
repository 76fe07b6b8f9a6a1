import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { errorBody, HookrelayError } from '../errors.js';
import { isGuardedPath } from './request-path.js';

export interface AdminAuthOptions {
  /** `admin.token`; empty = no token required. */
  token: string;
  /**
   * Accepts a request that carries no (or a wrong) bearer token by other means, e.g. the
   * dashboard's HttpOnly session cookie. Consulted only when a token is configured.
   */
  allowRequest?: (ctx: Context) => boolean;
}

/** True when `header` is `Bearer <token>`; the comparison takes the same time for any wrong token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) return false;
  const given = createHash('sha256').update(match[1]!).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

/**
 * Requires `Authorization: Bearer <admin.token>` on /admin/* (in any spelling: `isGuardedPath`
 * decides on the canonical path) when a token is set; answers 401
 * `{"error":{"code":"HOOKRELAY_UNAUTHORIZED",...}}` otherwise.
 */
export function adminAuth({ token, allowRequest }: AdminAuthOptions): Middleware {
  return async (ctx, next) => {
    if (token === '' || !isGuardedPath(ctx.path)) return next();
    if (bearerMatches(ctx.get('Authorization') || undefined, token) || allowRequest?.(ctx)) return next();
    const error = new HookrelayError(
      'HOOKRELAY_UNAUTHORIZED',
      ctx.get('Authorization') ? 'wrong admin token' : 'admin token required: send "Authorization: Bearer <admin.token>"',
    );
    ctx.status = 401;
    ctx.set('WWW-Authenticate', 'Bearer realm="hookrelay-admin"');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = errorBody(error);
  };
}
