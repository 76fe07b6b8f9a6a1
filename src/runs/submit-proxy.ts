import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Middleware } from 'koa';
import { request } from 'undici';
import { z } from 'zod';
import { runMetadataHeader } from '../admin/api-schemas.js';
import { bearerMatches } from '../admin/auth.js';
import { HookrelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RunRegistration } from '../operator/runs.js';

/** The admin listener's path prefix that is forwarded to Cerebrium. */
export const SUBMIT_PREFIX = '/cerebrium';
const METADATA_HEADER = 'x-hookrelay-metadata';
/** A 2xx JSON answer is read up to this size to find its run id; a larger one is passed on unread (and not tracked). */
const MAX_ANSWER_BYTES = 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
/** Cerebrium answers an async submission at once; a slow answer is cut off here. */
const ANSWER_TIMEOUT_MS = 60_000;

/** Headers that belong to one connection (RFC 9110 §7.6.1), ours, or the admin listener's, never forwarded. */
const NOT_FORWARDED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect',
  'cookie', METADATA_HEADER, 'x-webhook-secret',
]);
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'content-length']);

export interface SubmitProxyDeps {
  /** `runs.cerebriumUrl`. */
  cerebriumUrl: string;
  /** `runs.publicUrl` + the runs source's path: the `webhookEndpoint` Cerebrium calls back. */
  webhookEndpoint: string;
  /** The runs source's first secret, sent as `X-Webhook-Secret`. */
  webhookSecret: string;
  /** `admin.token` ('' when none): never forwarded, even when a caller sends it. */
  adminToken: string;
  /** Records the run as submitted; resolves after the commit. */
  record(registration: RunRegistration): Promise<unknown>;
  logger: Logger;
}

/**
 * `POST /cerebrium/<path>?<query>` on the admin listener, forwarded to `<cerebriumUrl>/<path>?<query>`
 * with `webhookEndpoint` and `X-Webhook-Secret` set by the relay and the caller's own
 * `Authorization` (its Cerebrium key) passed through. The request body streams through; a 2xx
 * JSON answer with a `run_id` (or `runId`) is held until the run is committed as submitted, any
 * other answer streams back as it comes. Cerebrium unreachable -> 502, nothing recorded.
 */
export function createSubmitProxy(deps: SubmitProxyDeps): Middleware {
  const log = deps.logger.child({ component: 'submit-proxy' });
  const base = new URL(deps.cerebriumUrl);
  const basePath = base.pathname.replace(/\/+$/, '');

  return async (ctx, next) => {
    if (ctx.path !== SUBMIT_PREFIX && !ctx.path.startsWith(`${SUBMIT_PREFIX}/`)) return next();
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      throw new HookrelayError('HOOKRELAY_METHOD_NOT_ALLOWED', `${ctx.method} is not forwarded; submissions are POST`);
    }
    const metadata = metadataOf(ctx.req.headers);
    const incoming = new URL(ctx.req.url ?? '/', 'http://relay.invalid');
    const rest = incoming.pathname.slice(SUBMIT_PREFIX.length);
    const target = new URL(base.origin);
    target.pathname = `${basePath}${rest}`;
    target.search = incoming.search;
    target.searchParams.set('webhookEndpoint', deps.webhookEndpoint);

    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(ctx.req.headers)) {
      if (value === undefined || NOT_FORWARDED.has(name)) continue;
      if (name === 'authorization' && deps.adminToken !== '' && bearerMatches(String(value), deps.adminToken)) continue;
      headers[name] = value;
    }
    headers['x-webhook-secret'] = deps.webhookSecret;

    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(target, {
        method: 'POST',
        headers,
        body: ctx.req,
        headersTimeout: ANSWER_TIMEOUT_MS,
        bodyTimeout: ANSWER_TIMEOUT_MS,
        signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS + ANSWER_TIMEOUT_MS),
      });
    } catch (error) {
      const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
      const reason = err.code ?? err.cause?.code ?? err.name ?? 'request failed';
      log.warn({ path: rest, reason }, 'Cerebrium unreachable: submission not forwarded');
      throw new HookrelayError('HOOKRELAY_CEREBRIUM_UNREACHABLE', `Cerebrium at ${base.origin} did not answer (${reason}); the run was not submitted through the relay`);
    }

    ctx.status = response.statusCode;
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined && !NOT_RETURNED.has(name)) ctx.set(name, value as string | string[]);
    }
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.statusCode < 200 || response.statusCode >= 300 || !contentType.includes('json')) {
      ctx.body = response.body;
      return;
    }
    const chunks = response.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const { head, complete } = await readHead(chunks, MAX_ANSWER_BYTES);
    if (!complete) {
      log.warn({ path: rest }, 'Cerebrium answer too large to read a run id: the run is not tracked');
      ctx.body = Readable.from(chain(head, chunks));
      return;
    }
    const answer = Buffer.concat(head);
    const runId = runIdOf(answer);
    if (runId !== undefined) {
      const { project, app } = appOf(rest);
      try {
        await deps.record({ runId, project, app, metadata });
        log.info({ runId, app }, 'run submitted');
      } catch (error) {
        // Cerebrium has the run: its answer (the run id) still reaches the caller, marked untracked.
        log.error({ err: error, runId }, 'run submitted but not recorded: it is not tracked');
        ctx.set('Hookrelay-Run-Recorded', 'false');
      }
    }
    ctx.body = answer;
  };
}

function metadataOf(headers: IncomingHttpHeaders): Record<string, unknown> | null {
  const raw = headers[METADATA_HEADER];
  if (raw === undefined) return null;
  const metadata = runMetadataHeader.safeParse(Array.isArray(raw) ? raw.join(',') : raw);
  if (!metadata.success) throw new HookrelayError('HOOKRELAY_BAD_REQUEST', 'X-Hookrelay-Metadata: expected a JSON object; nothing was forwarded');
  return metadata.data;
}

/** `/v4/<project>/<app>/…` -> project and app; anything else -> none. */
export function appOf(path: string): { project: string | null; app: string | null } {
  const match = /^\/v\d+\/([^/]+)\/([^/]+)/.exec(path);
  return match ? { project: decodeURIComponent(match[1]!), app: decodeURIComponent(match[2]!) } : { project: null, app: null };
}

/** A run id as Cerebrium writes it: a non-empty string, or a whole number. */
const runIdValue = z.union([z.string().min(1), z.number().refine(Number.isSafeInteger).transform(String)]);
/** A 2xx JSON answer of Cerebrium's: its `run_id`, else its `runId`. */
const cerebriumAnswer = z
  .looseObject({ run_id: z.unknown().optional(), runId: z.unknown().optional() })
  .transform((answer) => answer.run_id ?? answer.runId)
  .pipe(runIdValue);

function runIdOf(answer: Buffer): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(answer.toString('utf8'));
  } catch {
    return undefined;
  }
  const runId = cerebriumAnswer.safeParse(json);
  return runId.success ? runId.data : undefined;
}

/** Reads up to `limit` bytes; stops early (the iterator left open for the rest) when there is more. */
async function readHead(chunks: AsyncIterator<Buffer>, limit: number): Promise<{ head: Buffer[]; complete: boolean }> {
  const head: Buffer[] = [];
  let size = 0;
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
    head.push(next.value);
    size += next.value.length;
    if (size > limit) return { head, complete: false };
  }
  return { head, complete: true };
}

async function* chain(head: readonly Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
