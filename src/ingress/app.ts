import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { Config } from '../config/load.js';
import { errorBody, httpStatusFor, isHookrelayError, HookrelayError } from '../errors.js';
import { createHttpListener, type ListenHandle } from '../http/listener.js';
import { readRawBody, tooLarge } from '../http/read-body.js';
import type { Logger } from '../log.js';
import type { DeliveryStore, OperatorStore, QuarantineLimits } from '../store/store.js';
import { createEventBuilder } from './new-event.js';
import { trackRequests } from './request-tracker.js';
import { createVerifier } from './verify.js';

/** At most one 'storage unavailable' line per this many ms; it counts the failed callbacks since the last one. */
const STORAGE_ERROR_LOG_INTERVAL_MS = 5_000;

/** `unavailable`: storage could not commit it (answered 503, or the connection closed without an answer). */
export type ReceivedOutcome = 'accepted' | 'duplicate' | 'rejected' | 'unavailable';

/** What ingress tells the rest of the relay; wired in the composition root. */
export interface IngressHooks {
  /** Every callback on a source path, once, with how it ended. */
  received?(source: string, outcome: ReceivedOutcome): void;
  /** An event was committed with pending deliveries to these destinations. */
  committed?(destinations: readonly string[]): void;
  /** An event was committed without deliveries to these destinations: it did not match their filters. */
  filtered?(destinations: readonly string[]): void;
  /** A callback completed a tracked run, this long after its submission. */
  runCompleted?(durationMs: number): void;
}

export interface IngressDeps {
  config: Config;
  store: Pick<DeliveryStore, 'ingest' | 'isWritable'> & Pick<OperatorStore, 'quarantine'>;
  logger: Logger;
  hooks?: IngressHooks;
}

export interface Ingress {
  /** Starts listening on `server.host`/`server.port`, or on `handle`; resolves with the bound port. */
  listen(handle?: ListenHandle): Promise<number>;
  /**
   * Stops accepting connections (new ones are refused), lets requests already received
   * finish (their commits included) for up to `graceMs`, then closes what is left.
   */
  close(graceMs: number): Promise<void>;
  readonly server: Server;
  /** Requests being processed right now. */
  inFlight(): number;
}

export function createIngressApp({ config, store, logger, hooks = {} }: IngressDeps): Koa {
  const app = new Koa({ proxy: false });
  // Exact paths: a request reaches the source whose path it spells, byte for byte, or gets 404
  // (a case-insensitive router let an unsigned /hooks/Partner answer for a signed /hooks/partner).
  const router = new Router({ sensitive: true, strict: true });
  const log = logger.child({ component: 'ingress' });
  // While storage is down every callback fails the same way (a group commit fails tens at
  // once): one line per STORAGE_ERROR_LOG_INTERVAL_MS and answer, with the count, not one per request.
  const storageFailureLog = {
    respond: { message: 'storage unavailable: answering 503', loggedAt: 0, unlogged: 0 },
    disconnect: { message: 'storage unavailable: closing the connection without an answer', loggedAt: 0, unlogged: 0 },
  };
  const logStorageFailure = (error: unknown, path: string, answer: 'respond' | 'disconnect') => {
    const entry = storageFailureLog[answer];
    entry.unlogged++;
    const now = Date.now();
    if (now - entry.loggedAt < STORAGE_ERROR_LOG_INTERVAL_MS) return;
    log.error({ err: error, path, requests: entry.unlogged }, entry.message);
    entry.loggedAt = now;
    entry.unlogged = 0;
  };
  const logServerError = (error: unknown, path: string) => {
    if (isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE')) return logStorageFailure(error, path, 'respond');
    log.error({ err: error, path }, 'request failed');
  };

  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HookrelayError('HOOKRELAY_NOT_FOUND', `no source at ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      ctx.status = httpStatusFor(error);
      ctx.body = errorBody(error);
      if (ctx.status === 413) ctx.set('Connection', 'close');
      if (ctx.status >= 500) logServerError(error, ctx.path);
    }
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const writable = await store.isWritable();
    ctx.status = writable ? 200 : 503;
    ctx.body = { status: writable ? 'ready' : 'storage not writable' };
  });

  for (const source of config.sources) {
    const verify = createVerifier(source.verify);
    const sourceLog = log.child({ source: source.name });
    const eventOf = createEventBuilder(config, source, sourceLog);
    const maxBodyBytes = config.server.maxBodyBytes;

    router.post(source.path, async (ctx) => {
      const { req } = ctx;
      const body = await readRawBody(req, maxBodyBytes);
      try {
        verify(req.headers, body, Date.now());
      } catch (error) {
        hooks.received?.(source.name, 'rejected');
        if (!isHookrelayError(error)) throw error;
        // Cerebrium never retries a 401: a wrong or rotated secret loses results, so say it loudly.
        sourceLog.warn({ code: error.code, reason: error.message, ...error.details }, 'callback rejected');
        if (source.quarantine) await quarantineRejected(store, source.name, source.quarantine, error.code, req.headers, body, sourceLog);
        throw error;
      }
      const { event, filtered } = await eventOf(req.headers, body);
      const { destinations } = event;
      let result;
      try {
        result = await store.ingest(event);
      } catch (error) {
        if (!isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE')) throw error;
        hooks.received?.(source.name, 'unavailable');
        if (source.onStorageFailure === 'respond') throw error;
        // No answer at all: the sender sees a network error, which it retries (a 503 it would not).
        logStorageFailure(error, ctx.path, 'disconnect');
        ctx.respond = false;
        req.socket.destroy();
        return;
      }
      hooks.received?.(source.name, result.duplicate ? 'duplicate' : 'accepted');
      if (result.completedRun) hooks.runCompleted?.(result.completedRun.durationMs);
      if (!result.duplicate && destinations.length > 0) hooks.committed?.(destinations);
      if (!result.duplicate && filtered.length > 0) hooks.filtered?.(filtered);
      ctx.status = result.duplicate ? 200 : 202;
      ctx.body = { id: result.id, duplicate: result.duplicate };
    });
    router.all(source.path, (ctx) => {
      ctx.set('Allow', 'POST');
      throw new HookrelayError('HOOKRELAY_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${source.path}; use POST`);
    });
  }

  app.use(router.routes());
  return app;
}

/**
 * Keeps a rejected callback in its source's bounded quarantine. Its answer stays 401 whatever
 * happens here: a failure to keep it is logged, never answered.
 */
async function quarantineRejected(
  store: Pick<OperatorStore, 'quarantine'>,
  source: string,
  limits: QuarantineLimits,
  reason: string,
  headers: IncomingMessage['headers'],
  body: Buffer,
  log: Logger,
): Promise<void> {
  const kept = Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string | string[]] => entry[1] !== undefined));
  const now = Date.now();
  try {
    await store.quarantine({ source, reason, headers: kept, body, receivedAt: now }, limits, now);
  } catch (error) {
    log.error({ err: error }, 'cannot quarantine the rejected callback');
  }
}

export function createIngress(deps: IngressDeps): Ingress {
  const app = createIngressApp(deps);
  const { server: settings } = deps.config;
  const handler = app.callback();
  const listener = createHttpListener(
    (req, res) => {
      requests.track(req, res);
      void handler(req, res);
    },
    {
      host: settings.host,
      port: settings.port,
      headersTimeoutMs: settings.headersTimeoutMs,
      requestTimeoutMs: settings.requestTimeoutMs,
      keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
      // Node enforces headersTimeout/requestTimeout only when it sweeps connections (every 30 s by
      // default): sweep often enough that a slow client is cut close to its deadline.
      connectionsCheckingIntervalMs: Math.max(50, Math.min(1_000, settings.headersTimeoutMs, settings.requestTimeoutMs)),
    },
  );
  const { server } = listener;
  const requests = trackRequests(server);
  // `Expect: 100-continue` declaring a body over the limit: answer 413 before the client sends
  // it (without this listener Node sends 100 Continue and the whole body would be drained).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length']) > settings.maxBodyBytes) {
      const body = JSON.stringify(errorBody(tooLarge(settings.maxBodyBytes)));
      res.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
      res.end(body);
      return;
    }
    res.writeContinue();
    listener.handle(req, res);
  });

  return {
    server,
    inFlight: () => requests.inFlight(),
    listen: listener.listen,
    // Waits for every request already received (its commit included) up to graceMs.
    close: (graceMs) => listener.close({ graceMs, inFlight: () => requests.inFlight() }),
  };
}
