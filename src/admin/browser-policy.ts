import { isIP } from 'node:net';
import type { Middleware } from 'koa';
import { HookrelayError } from '../errors.js';

export interface BrowserPolicyOptions {
  /** True when `admin.token` is set. */
  tokenRequired: boolean;
  /** `admin.allowedHosts`: host names (no port) accepted in `Host` besides IP literals and localhost. */
  allowedHosts: readonly string[];
  /**
   * Path prefixes whose requests are forwarded as they come (the Cerebrium submit proxy): any
   * content type passes there. A cross-site page still cannot use them: its Origin is refused,
   * and what is forwarded needs the caller's own upstream credentials, which a page cannot add.
   */
  forwardedPrefixes?: readonly string[];
}

/** Methods that change nothing: they need no JSON body and no same-origin proof. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What a web page on another site, or a DNS-rebinding page, could make a browser send to the
 * admin listener, refused before any guard or route sees it:
 * - `Host` (only without a token: with one, a rebinding page has no credential to send) must be
 *   an IP literal, `localhost`, or a name in `admin.allowedHosts` -> 403 HOOKRELAY_HOST_NOT_ALLOWED;
 * - `Origin`, when present, must be the listener's own (its host:port is the request's `Host`)
 *   -> 403 HOOKRELAY_ORIGIN_NOT_ALLOWED (`Origin: null` included);
 * - a state-changing request (not GET/HEAD/OPTIONS) must carry `Content-Type: application/json`,
 *   which no cross-site form or CORS-simple request can send -> 415 HOOKRELAY_JSON_REQUIRED.
 * The Origin and JSON rules hold with a token too: the dashboard's session cookie is a
 * credential a browser sends on its own.
 */
export function browserPolicy({ tokenRequired, allowedHosts, forwardedPrefixes = [] }: BrowserPolicyOptions): Middleware {
  const allowed = new Set(allowedHosts.map((name) => name.toLowerCase()));
  const forwarded = (path: string) => forwardedPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  return async (ctx, next) => {
    const host = ctx.get('Host');
    if (!tokenRequired && !hostAllowed(host, allowed)) {
      throw new HookrelayError('HOOKRELAY_HOST_NOT_ALLOWED', `Host "${host}" is not an IP address, localhost or a name in admin.allowedHosts`);
    }
    const origin = ctx.get('Origin');
    if (origin !== '' && !originMatchesHost(origin, host)) {
      throw new HookrelayError('HOOKRELAY_ORIGIN_NOT_ALLOWED', `requests from origin "${origin}" are refused: the admin listener serves its own pages only`);
    }
    if (!SAFE_METHODS.has(ctx.method) && mediaType(ctx.get('Content-Type')) !== 'application/json' && !forwarded(ctx.path)) {
      throw new HookrelayError('HOOKRELAY_JSON_REQUIRED', `${ctx.method} on the admin listener needs "Content-Type: application/json"`);
    }
    return next();
  };
}

/**
 * The host name of a `Host` header value (`name:port`, `1.2.3.4:port`, `[::1]:port`),
 * lower-cased; `null` when the value is not of that form.
 */
export function hostName(header: string): string | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::\d{1,5})?$/.exec(header);
  if (!match) return null;
  return (match[1] ?? match[2]!).toLowerCase();
}

/** An IP literal, `localhost`, or a listed name: a DNS-rebinding page's `Host` is none of them. */
export function hostAllowed(header: string, allowedHosts: ReadonlySet<string>): boolean {
  const name = hostName(header);
  if (name === null) return false;
  return isIP(name) !== 0 || name === 'localhost' || allowedHosts.has(name);
}

/** True when `origin` (scheme://host[:port]) names the same host and port the request was sent to. */
export function originMatchesHost(origin: string, host: string): boolean {
  if (host === '') return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function mediaType(header: string): string {
  return header.split(';')[0]!.trim().toLowerCase();
}
