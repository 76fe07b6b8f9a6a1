import type { AdminListener } from './admin/app.js';
import type { LoadedConfig } from './config/load.js';
import { createDispatcher, type Dispatcher } from './delivery/dispatcher.js';
import { createDeliveryThread, type DeliveryThread } from './delivery/thread/delivery-thread.js';
import type { HookrelayError } from './errors.js';
import type { ListenHandle } from './http/listener.js';
import { createIngress } from './ingress/app.js';
import { createLogger, type Logger } from './log.js';
import { createRetention } from './operator/retention.js';
import { createRunTracking } from './runs/run-tracking.js';
import { openStore } from './store/open-store.js';

/** How long in-flight ingress requests may take to finish after SIGTERM. */
const INGRESS_GRACE_MS = 10_000;
/**
 * How long in-flight delivery attempts may take to finish after SIGTERM before they are
 * released (and sent again after restart). Short, because on SQLite the next process cannot
 * start before this one exits, and a sender's retries span only a few seconds.
 */
const DELIVERY_GRACE_MS = 5_000;

/** Listening sockets handed over by the `serve` supervisor; without them the relay binds its own. */
export interface RelayListeners {
  public?: ListenHandle;
  admin?: ListenHandle;
}

export interface RunningRelay {
  port: number;
  adminPort: number | null;
  /**
   * Settles only if the delivery thread dies (a crash): the process should then stop (its
   * listeners close, acknowledged callbacks are committed) and exit non-zero, so that its
   * supervisor starts a new one, which takes the deliveries over.
   */
  failed: Promise<HookrelayError>;
  /** Shuts down in reverse order of start-up: listeners, delivery, storage. */
  stop(): Promise<void>;
}

/**
 * The composition root: config -> log -> store -> delivery -> ingress (and admin).
 * Shutdown runs in reverse: close the listeners first (new connections are refused, requests
 * already received are committed and answered), then drain deliveries, then close storage.
 * With `listeners` handed over by the supervisor, closing ours leaves the supervisor's copy
 * open: new connections then wait in the kernel's accept queue for the next relay process.
 * The caller logs the `listening` line (the supervisor, whose pid it carries).
 */
export async function startRelay(
  { config, defaulted, warnings }: LoadedConfig,
  logger: Logger = createLogger({ level: config.log.level }),
  listeners: RelayListeners = {},
): Promise<RunningRelay> {
  for (const entry of defaulted.filter((candidate) => candidate.secret)) {
    logger.warn(
      { key: entry.path, variable: entry.variable },
      `${entry.path} uses the development default of \${${entry.variable}}: set ${entry.variable} before production use`,
    );
  }
  for (const warning of warnings) logger.warn(warning);

  // The admin listener, its metrics and dashboard (Koa, prom-client) are loaded only when it is
  // on, while storage opens (in its own threads): start-up takes the longer of the two, not both.
  const [adminLoaded, storeOpened] = await Promise.allSettled([config.admin ? loadAdminModules() : null, openStore(config.storage, { client: 'serve', lock: true, thread: 'worker', mustExist: false })]);
  if (storeOpened.status === 'rejected') throw storeOpened.reason;
  const store = storeOpened.value;
  if (adminLoaded.status === 'rejected') {
    await store.close();
    throw adminLoaded.reason;
  }
  const adminModules = adminLoaded.value;
  let deliveryThread: DeliveryThread | null = null;
  const metrics = adminModules
    ? adminModules.createMetrics({ config, store, otherWriteTransactions: () => deliveryThread?.ownWriteTransactions() ?? Promise.resolve(0) })
    : null;
  let deliveryDied!: (error: HookrelayError) => void;
  const failed = new Promise<HookrelayError>((resolve) => (deliveryDied = resolve));
  // Deliveries run in their own thread, off the event loop that answers callbacks; a SQLite
  // store that cannot be shared with another thread (':memory:') keeps them on this one.
  const dispatcher: Dispatcher =
    config.storage.kind === 'postgres' || store.connectThread
      ? (deliveryThread = createDeliveryThread({ config, store, logger, observer: metrics?.observer, onDied: deliveryDied }))
      : createDispatcher({ config, store, logger, observer: metrics?.observer });
  try {
    await dispatcher.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  const retention = createRetention({ config, store, logger });
  retention.start();
  const runTracking = createRunTracking({ config, store, logger, wake: (destinations) => dispatcher.wake(destinations) });
  runTracking?.checker.start();
  const ingress = createIngress({
    config,
    store,
    logger,
    hooks: { received: metrics?.received, committed: (destinations) => dispatcher.wake(destinations), filtered: metrics?.filtered, runCompleted: metrics?.runCompleted },
  });
  let port: number;
  try {
    port = await ingress.listen(listeners.public);
  } catch (error) {
    await runTracking?.checker.stop();
    await retention.stop();
    await dispatcher.stop(0);
    await store.close();
    throw error;
  }
  let admin: AdminListener | null = null;
  let adminPort: number | null = null;
  if (adminModules && metrics) {
    const { createAdminListener, createDashboard } = adminModules;
    const dashboard = createDashboard({ operator: { config, store } });
    admin = createAdminListener({
      config, store, logger, metrics, breakerStates: () => dispatcher.breakerStates(),
      allowRequest: (ctx) => dashboard.session.allowsCookieRequest(ctx, Date.now()),
      routes: [...(runTracking?.adminRoutes ?? []), dashboard.api, dashboard.pages],
      forwardedPrefixes: runTracking?.forwardedPrefixes,
    });
    try {
      adminPort = await admin.listen(listeners.admin);
    } catch (error) {
      await ingress.close(0);
      await runTracking?.checker.stop();
      await retention.stop();
      await dispatcher.stop(0);
      await store.close();
      throw error;
    }
  }
  let stopping: Promise<void> | null = null;
  return {
    port,
    adminPort,
    failed,
    stop: () =>
      (stopping ??= (async () => {
        logger.info('shutting down: closing listeners');
        await Promise.all([admin?.close(), ingress.close(INGRESS_GRACE_MS)]);
        logger.info('listeners closed: draining deliveries');
        await runTracking?.checker.stop();
        await retention.stop();
        await dispatcher.stop(DELIVERY_GRACE_MS);
        await store.close();
        logger.info('stopped');
      })()),
  };
}

/** The admin side's factories, imported together (in parallel) when `admin` is configured. */
async function loadAdminModules() {
  const [{ createAdminListener }, { createDashboard }, { createMetrics }] = await Promise.all([
    import('./admin/app.js'),
    import('./admin/dashboard/dashboard.js'),
    import('./admin/metrics.js'),
  ]);
  return { createAdminListener, createDashboard, createMetrics };
}
