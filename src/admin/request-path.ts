import Router from '@koa/router';
import type { Middleware } from 'koa';
import { HookrelayError } from '../errors.js';

/**
 * The one normalisation of request paths on the admin listener, shared by the token guard and
 * the routing (STYLE.md: a guard and the router it protects must see the same path).
 *
 * Koa hands the routers the raw path (`ctx.path`: not percent-decoded, no slash or dot-segment
 * cleanup) and @koa/router matches case-insensitively and with an optional trailing slash by
 * default. So the listener:
 * 1. refuses (404) every path that is not already in its canonical spelling, apart from letter
 *    case: escapes that decode to a letter, digit, `-._~`, `/` or `\`, repeated slashes, `.` and
 *    `..` segments, a trailing slash, malformed escapes, anything but printable ASCII;
 * 2. routes with case-sensitive, strict routers (`createAdminRouter`), so a route matches only
 *    its exact spelling;
 * 3. guards by the canonical (lower-cased) form (`isGuardedPath`), and by the raw one lower-cased.
 * After step 1, a raw path and its canonical form differ only by letter case, so every request
 * a router under `/admin` matches is one the guard covers.
 */

/** Characters whose escape is decoded (so never canonical): it would hide a letter or a segment break. */
const PLAIN = /^[A-Za-z0-9\-._~/\\]$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * The canonical form of a raw request path: escapes of plain characters decoded, repeated
 * slashes collapsed, `.`/`..` segments resolved, no trailing slash (except `/` itself),
 * lower-cased. `null` for a path that cannot be read (not starting with `/`, malformed escape,
 * not printable ASCII).
 */
export function canonicalPath(raw: string): string | null {
  if (!raw.startsWith('/') || !PRINTABLE_ASCII.test(raw)) return null;
  let malformed = false;
  const decoded = raw.includes('%')
    ? raw.replace(/%([0-9A-Fa-f]{2})?/g, (escape, hex: string | undefined) => {
        if (hex === undefined) malformed = true;
        const char = String.fromCharCode(Number.parseInt(hex ?? '', 16));
        return hex !== undefined && PLAIN.test(char) ? char : escape;
      })
    : raw;
  if (malformed) return null;
  const segments: string[] = [];
  for (const segment of decoded.replaceAll('\\', '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`.toLowerCase();
}

/** True when `raw` is spelled canonically (letter case aside): the only spelling the listener serves. */
export function isCanonicalSpelling(raw: string): boolean {
  return canonicalPath(raw) === raw.toLowerCase();
}

/**
 * Paths guarded by the admin token: `/admin` and everything under it, in any spelling
 * (`/Admin/…`, `//admin/…`, `/%61dmin/…`). An unreadable path is guarded too, and so is one
 * whose raw spelling starts with /admin even where its canonical form leaves it
 * (`/admin/x/..%2F..%2Fmetrics`: a router matches raw paths). `/metrics` is not.
 */
export function isGuardedPath(raw: string): boolean {
  const canonical = canonicalPath(raw);
  return canonical === null || underAdmin(canonical) || underAdmin(raw.toLowerCase());
}

function underAdmin(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/');
}

/** Answers 404 to any path not in its canonical spelling, before any guard or route sees it. */
export function refuseNonCanonicalPaths(): Middleware {
  return async (ctx, next) => {
    if (!isCanonicalSpelling(ctx.path)) {
      throw new HookrelayError('HOOKRELAY_NOT_FOUND', `nothing at ${ctx.method} ${ctx.path}: the admin listener serves each path in one spelling only`);
    }
    return next();
  };
}

/** Every router on the admin listener: case-sensitive and strict (no trailing-slash variant). */
export function createAdminRouter({ prefix }: { prefix?: string } = {}): Router {
  return new Router({ ...(prefix === undefined ? {} : { prefix }), sensitive: true, strict: true });
}
