import { destination as pinoDestination } from 'pino';
import { HookrelayError, type ErrorCode, ERROR_CODES } from '../errors.js';
import { createLogger } from '../log.js';
import { bindListener, sameAddress, type BoundListener } from './listeners.js';
import type { ListenerName, RelayMessage } from './protocol.js';
import { forkRelay, RelayStartFailure, type RelayProcess } from './relay-process.js';

type Configured = Extract<RelayMessage, { type: 'configured' }>;

/** After a crash: wait this long before each further restart (the first is immediate). */
const RESTART_DELAYS_MS = [0, 1_000, 2_000, 5_000, 10_000, 30_000];
/** A relay process that served this long resets the restart delays. */
const STABLE_AFTER_MS = 30_000;
const LISTENER_NAMES: readonly ListenerName[] = ['public', 'admin'];

/**
 * `serve`: a small supervisor that owns the listening sockets and runs the relay in a child
 * process (see protocol.ts for the words and the messages).
 *
 * - SIGHUP reloads: a new relay process reads the config and the code from disk. Invalid config:
 *   one error line, the old process goes on. Valid: on SQLite the old process drains and closes
 *   storage first (one process per database), then the new one opens it and accepts on the same
 *   sockets — connections arriving meanwhile wait in the accept queue. On PostgreSQL the new one
 *   starts serving before the old one drains.
 * - A relay process that exits unexpectedly is started again (with growing delays if it keeps
 *   crashing); the sockets stay open meanwhile.
 * - SIGTERM/SIGINT: the sockets close (new connections are refused), the relay drains and
 *   exits, then serve exits 0. A second signal exits at once with 1.
 *
 * Resolves when stopped; throws the relay's error when the first start fails.
 */
export async function runSupervisor(configPath: string): Promise<void> {
  const out = pinoDestination({ fd: 1, sync: false });
  const logger = createLogger({ destination: out });
  // Lines scripts wait for are written whatever the configured level.
  const announce = logger.child({}, { level: 'info' });
  const output = { stdout: (text: string) => out.write(text), stderr: (text: string) => process.stderr.write(text) };
  const listeners: Record<ListenerName, BoundListener | null> = { public: null, admin: null };
  let current: RelayProcess | null = null;
  const starting = new Set<RelayProcess>();
  let stopping = false;
  let crashes = 0;
  let servingSince = 0;
  let reloadQueued = false;

  // Start, reloads, restarts and stop run one at a time, in the order they were asked for.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };

  /** Binds what the config asks for and is not bound yet; an address change needs a restart. */
  const adoptListeners = async (configured: Configured): Promise<ListenerName[]> => {
    const added: ListenerName[] = [];
    for (const name of LISTENER_NAMES) {
      const wanted = configured.listeners[name];
      const bound = listeners[name];
      if (!wanted) continue;
      if (!bound) {
        try {
          listeners[name] = await bindListener(wanted);
        } catch (error) {
          for (const undo of added) {
            listeners[undo]?.close();
            listeners[undo] = null;
          }
          throw error;
        }
        added.push(name);
      } else if (!sameAddress(bound.address, wanted)) {
        const key = name === 'public' ? 'server' : 'admin';
        logger.warn(
          { listener: name, configured: wanted, listening: bound.address },
          `${key}.host/${key}.port changed: a reload keeps the listening socket, restart serve to move it`,
        );
      }
    }
    return added;
  };

  const handles = (configured: Configured): Partial<Record<ListenerName, object>> => {
    const result: Partial<Record<ListenerName, object>> = {};
    for (const name of LISTENER_NAMES) {
      const bound = listeners[name];
      if (configured.listeners[name] && bound) result[name] = bound.handle;
    }
    return result;
  };

  /** Closes the sockets the running config no longer has (an admin listener removed by a reload). */
  const closeUnused = (configured: Configured) => {
    for (const name of LISTENER_NAMES) {
      if (!configured.listeners[name] && listeners[name]) {
        listeners[name]!.close();
        listeners[name] = null;
      }
    }
  };

  const watch = (relay: RelayProcess) => {
    void relay.exited.then(({ code, signal }) => {
      if (relay.stopRequested || stopping || current !== relay) return;
      current = null;
      if (Date.now() - servingSince > STABLE_AFTER_MS) crashes = 0;
      const delay = RESTART_DELAYS_MS[Math.min(crashes, RESTART_DELAYS_MS.length - 1)]!;
      crashes++;
      logger.error({ relayPid: relay.pid, code, signal, restartInMs: delay }, 'the relay process exited unexpectedly: starting it again');
      scheduleRestart(delay);
    });
  };

  const scheduleRestart = (delayMs: number) => {
    setTimeout(() => {
      void enqueue(async () => {
        if (stopping || current) return;
        try {
          const ready = await launch(null);
          announce.info({ port: ready.port, ...adminPortOf(ready), relayPid: ready.relayPid }, 'relay process restarted');
        } catch (error) {
          const delay = RESTART_DELAYS_MS[Math.min(crashes++, RESTART_DELAYS_MS.length - 1)]!;
          logger.error({ err: error, restartInMs: delay }, 'the relay process did not start: trying again');
          scheduleRestart(delay);
        }
      });
    }, delayMs);
  };

  /**
   * Starts a relay process and makes it the current one; `previous` (being replaced) is drained
   * first on SQLite, after the new one serves on PostgreSQL. Returns the new one's ports.
   */
  const launch = async (previous: RelayProcess | null) => {
    const next = forkRelay(configPath, output);
    starting.add(next);
    try {
      const configured = await next.configured;
      logger.level = configured.logLevel;
      const added = await adoptListeners(configured);
      const overlap = configured.storage === 'postgres';
      const handoverStarted = Date.now();
      if (previous && !overlap) await drain(previous);
      next.start(handles(configured));
      let ready;
      try {
        ready = await next.ready;
      } catch (error) {
        if (!previous || overlap) for (const name of added) closeListener(name);
        throw error;
      }
      current = next;
      servingSince = Date.now();
      watch(next);
      if (previous && overlap) await drain(previous);
      closeUnused(configured);
      return { ...ready, relayPid: next.pid, handoverMs: Date.now() - handoverStarted };
    } catch (error) {
      next.kill();
      await next.exited;
      throw error;
    } finally {
      starting.delete(next);
    }
  };

  const closeListener = (name: ListenerName) => {
    listeners[name]?.close();
    listeners[name] = null;
  };

  const drain = async (relay: RelayProcess) => {
    relay.stop();
    await relay.exited;
    if (current === relay) current = null;
  };

  const reload = async () => {
    reloadQueued = false;
    if (stopping) return;
    const previous = current;
    try {
      const ready = await launch(previous);
      announce.info({ port: ready.port, ...adminPortOf(ready), relayPid: ready.relayPid, handoverMs: ready.handoverMs }, 'reloaded');
    } catch (error) {
      if (previous && current === previous) {
        const reason = error instanceof Error ? error.message : String(error);
        logger.error({ error: reason, code: error instanceof RelayStartFailure ? error.code : undefined }, `reload failed, still serving the previous config: ${reason}`);
        return;
      }
      // The old process had already let go of storage: nothing serves now. Keep trying.
      logger.error({ err: error }, 'reload failed after the previous relay process stopped: starting it again');
      scheduleRestart(RESTART_DELAYS_MS[1]!);
    }
  };

  const stop = async () => {
    stopping = true;
    // Listeners first: new connections are refused from now on (senders retry a refused one).
    for (const name of LISTENER_NAMES) closeListener(name);
    let failed = false;
    if (current) {
      const relay = current;
      relay.stop();
      const { code } = await relay.exited;
      failed = code !== 0;
    }
    if (failed) process.exitCode = 1;
  };

  let stopRequested: Promise<void> | null = null;
  let stopSignalled!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopSignalled = resolve));
  const onStopSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      logger.warn({ signal }, 'second signal: exiting now');
      for (const relay of [current, ...starting]) relay?.kill();
      out.flushSync();
      process.exit(1);
    }
    logger.info({ signal }, 'signal received');
    stopRequested = enqueue(stop);
    stopSignalled();
  };
  const onReloadSignal = () => {
    logger.info({ signal: 'SIGHUP' }, 'signal received: reloading');
    if (reloadQueued) return;
    reloadQueued = true;
    void enqueue(reload);
  };
  // In before start-up: without a handler Node ends the process at once on these signals, and a
  // script may send one as soon as it reads the listening line. One received while starting
  // stops the relay as soon as it has started.
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  process.on('SIGHUP', onReloadSignal);
  const removeHandlers = () => {
    process.off('SIGTERM', onStopSignal);
    process.off('SIGINT', onStopSignal);
    process.off('SIGHUP', onReloadSignal);
  };

  try {
    const ready = await enqueue(() => launch(null));
    announce.info({ port: ready.port, ...adminPortOf(ready), relayPid: ready.relayPid }, 'listening');
  } catch (error) {
    removeHandlers();
    for (const name of LISTENER_NAMES) closeListener(name);
    await new Promise<void>((resolve) => out.flush(() => resolve()));
    throw asCliError(error);
  }
  await stopSignal;
  await stopRequested;
  removeHandlers();
  await new Promise<void>((resolve) => out.flush(() => resolve()));
}

function adminPortOf(ready: { adminPort: number | null }): { adminPort?: number } {
  return ready.adminPort === null ? {} : { adminPort: ready.adminPort };
}

/** The relay's own error code, so `serve` exits as it did when it ran the relay itself (2 for config, 1 otherwise). */
function asCliError(error: unknown): unknown {
  if (error instanceof RelayStartFailure && error.code && error.code in ERROR_CODES) {
    return new HookrelayError(error.code as ErrorCode, error.message);
  }
  return error;
}
