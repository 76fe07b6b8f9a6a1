import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Context } from 'koa';

/** Name of the HttpOnly cookie the token form sets. */
export const SESSION_COOKIE = 'hookrelay_session';
/**
 * Header every request of the dashboard's own scripts carries. A page on another origin cannot
 * add a custom header to a request to the admin listener without a CORS preflight, which the
 * admin listener never grants, so a request that carries it comes from the dashboard itself.
 */
export const DASHBOARD_HEADER = 'x-hookrelay-dashboard';
/** How long a dashboard session lasts before the token must be entered again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const VERSION = 'v1';

export interface DashboardSession {
  /** False when no admin token is configured: everything is open. */
  readonly required: boolean;
  /** Constant-time comparison of a submitted token with the configured one. */
  tokenMatches(candidate: string): boolean;
  /** Sets the cookie of a new session on the response; it expires `SESSION_TTL_MS` after `now`. */
  issueCookie(ctx: Context, now: number): void;
  /** Sets the cookie on the response that removes the session cookie. */
  clearCookie(ctx: Context): void;
  /** True when the request's cookies hold a session that is valid at `now`. */
  hasValidCookie(ctx: Context, now: number): boolean;
  /**
   * True when a request may use the session cookie in place of the bearer token: a valid
   * cookie, the dashboard header, and (when the browser says) a same-origin request.
   * SameSite=Strict already keeps the cookie off cross-site requests; the header and the
   * origin checks also stop same-site pages on other ports and cross-site form posts (CSRF).
   */
  allowsCookieRequest(ctx: Context, now: number): boolean;
}

/**
 * The session cookie's attributes: sent back on every path (the pages and /admin/api), never
 * readable by page scripts, never sent on a request another site starts.
 */
const COOKIE_ATTRIBUTES = { path: '/', httpOnly: true, sameSite: 'strict', overwrite: true } as const;

/**
 * Sessions are stateless: the cookie is `v1.<expires>.<mac>` where mac = HMAC-SHA256 keyed by
 * the admin token over the expiry. The browser never holds the token itself, changing the
 * token ends every session, and a restart keeps sessions valid.
 */
export function createDashboardSession(token: string): DashboardSession {
  const required = token.length > 0;
  const tokenDigest = createHash('sha256').update(token).digest();
  const mac = (expires: number) => createHmac('sha256', token).update(`hookrelay-dashboard:${VERSION}:${expires}`).digest();

  const hasValidCookie = (ctx: Context, now: number): boolean => {
    if (!required) return true;
    const value = ctx.cookies.get(SESSION_COOKIE);
    if (!value) return false;
    const [version, expiresText, macText] = value.split('.');
    if (version !== VERSION || !expiresText || !macText || !/^\d{1,15}$/.test(expiresText)) return false;
    const expires = Number(expiresText);
    if (expires <= now || expires > now + SESSION_TTL_MS) return false;
    const given = Buffer.from(macText, 'base64url');
    const expected = mac(expires);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  return {
    required,
    tokenMatches: (candidate) => required && timingSafeEqual(createHash('sha256').update(candidate).digest(), tokenDigest),
    issueCookie: (ctx, now) => {
      const expires = now + SESSION_TTL_MS;
      // The browser drops it when the session ends (`expires`, as the cookies module writes no Max-Age).
      ctx.cookies.set(SESSION_COOKIE, `${VERSION}.${expires}.${mac(expires).toString('base64url')}`, { ...COOKIE_ATTRIBUTES, expires: new Date(expires) });
    },
    // No value: the cookie is sent already expired, which removes it.
    clearCookie: (ctx) => ctx.cookies.set(SESSION_COOKIE, null, COOKIE_ATTRIBUTES),
    hasValidCookie,
    allowsCookieRequest: (ctx, now) => ctx.get(DASHBOARD_HEADER) === '1' && isSameOrigin(ctx.req.headers) && hasValidCookie(ctx, now),
  };
}

/**
 * False when the browser reports a cross-origin request: `Sec-Fetch-Site` other than
 * same-origin, or an `Origin` whose host is not the request's `Host`. Requests without either
 * header (non-browser clients) pass this check; they still need the cookie and the header.
 */
export function isSameOrigin(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}
