import type { Middleware } from 'koa';
import type { Config } from '../config/load.js';
import { HookrelayError } from '../errors.js';
import { RUNS_SOURCE } from '../glossary.js';
import type { Logger } from '../log.js';
import type { OperatorContext } from '../operator/context.js';
import { registerRun } from '../operator/runs.js';
import { createRunChecker, type RunChecker } from './checker.js';
import { createRunsApiRouter } from './runs-api.js';
import { createStatusClient } from './status-client.js';
import { createSubmitProxy, SUBMIT_PREFIX } from './submit-proxy.js';

/** One status request, connect to last byte. */
const STATUS_TIMEOUT_MS = 10_000;

export interface RunTrackingDeps {
  config: Config;
  /** The checker's run store, and the operator tools' behind /admin/api/runs. */
  store: OperatorContext['store'];
  logger: Logger;
  /** Announcements were committed with deliveries to these destinations. */
  wake(destinations: readonly string[]): void;
}

export interface RunTracking {
  readonly checker: RunChecker;
  /** Mounted on the admin listener: the submit proxy (`POST /cerebrium/*`) and `/admin/api/runs`. */
  readonly adminRoutes: readonly Middleware[];
  /** Prefixes among `adminRoutes` that forward requests as they come (the submit proxy). */
  readonly forwardedPrefixes: readonly string[];
}

/** How often the checker looks for due runs: often enough for short test settings, at most once a second. */
export function checkerTickMs(overdueAfterMs: number, everyMs: number | undefined): number {
  return Math.min(1_000, Math.max(50, Math.floor(Math.min(overdueAfterMs, everyMs ?? Infinity) / 4)));
}

/** Run tracking's parts, built from `config.runs` (null when it is off). */
export function createRunTracking({ config, store, logger, wake }: RunTrackingDeps): RunTracking | null {
  const runs = config.runs;
  if (!runs) return null;
  const source = config.sources.find((candidate) => candidate.name === runs.source);
  if (!source) throw new HookrelayError('HOOKRELAY_CONFIG_INVALID', `runs.source: unknown source "${runs.source}"`);
  const announceTo = config.destinations.filter((destination) => destination.sources.includes(RUNS_SOURCE)).map((destination) => destination.name);
  const checker = createRunChecker({
    store,
    logger,
    statusClient: runs.status ? createStatusClient({ url: runs.status.url, token: runs.status.token, timeoutMs: STATUS_TIMEOUT_MS }) : null,
    settings: {
      callbackSource: source.name,
      announceTo,
      everyMs: runs.status?.everyMs ?? runs.overdueAfterMs,
      tickMs: checkerTickMs(runs.overdueAfterMs, runs.status?.everyMs),
    },
    announced: wake,
  });
  const operator = { config, store };
  const proxy = createSubmitProxy({
    cerebriumUrl: runs.cerebriumUrl,
    webhookEndpoint: `${runs.publicUrl.replace(/\/+$/, '')}${source.path}`,
    webhookSecret: source.verify.secrets[0]!,
    adminToken: config.admin?.token ?? '',
    record: (registration) => registerRun(operator, registration),
    logger,
  });
  const api = createRunsApiRouter(operator);
  return { checker, adminRoutes: [proxy, api.routes() as Middleware, api.allowedMethods() as Middleware], forwardedPrefixes: [SUBMIT_PREFIX] };
}
