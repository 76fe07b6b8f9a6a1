import type { LoadedConfig } from '../config/load.js';
import { isHookrelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RelayListeners, RunningRelay } from '../serve.js';
import type { ListenerName, RelayMessage, SupervisorMessage } from './protocol.js';

/**
 * The relay process: started by the `serve` supervisor (child_process.fork) with the config
 * path as its argument (or in a `configure` message), so every start — the first, a reload, a
 * restart after a crash — runs the code and the config on disk now. It speaks the protocol in
 * protocol.ts.
 */

/** A relay process that just crashed may still hold the SQLite lock for a moment: wait this long for it. */
const STORE_LOCKED_WAIT_MS = 2_000;

const send = (message: RelayMessage) => process.send?.(message);

async function main(givenConfigPath: string | undefined): Promise<void> {
  // The supervisor decides when to stop: a signal meant for the whole process group (Ctrl-C,
  // systemd's control-group kill, a closing terminal) must not end requests half-way.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
  // Without its supervisor this process would hold the socket and the database alone: end at
  // once, as the supervisor did (process.exit waits for the SQLite threads, over a second under
  // load, and a new serve may be starting on the same database). Nothing acknowledged is lost.
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  // Listening before the relay's modules load (most of a start-up), so the config path cannot
  // arrive before anyone listens for it.
  const configPathGiven = givenConfigPath === undefined ? configPathFromSupervisor() : Promise.resolve(givenConfigPath);
  const [{ loadConfigFile }, { createLogger }, { startRelay }] = await Promise.all([
    import('../config/load.js'),
    import('../log.js'),
    import('../serve.js'),
  ]);
  const configPath = await configPathGiven;

  let loaded: LoadedConfig;
  try {
    loaded = loadConfigFile(configPath);
  } catch (error) {
    return fail(error);
  }
  const { config } = loaded;
  const logger = createLogger({ level: config.log.level });
  const listeners: RelayListeners = {};
  const started = new Promise<void>((resolve) => {
    process.on('message', (message: SupervisorMessage, handle?: object) => {
      if (message.type === 'listener' && handle) listeners[message.name satisfies ListenerName] = handle;
      if (message.type === 'start') resolve();
    });
  });
  send({
    type: 'configured',
    listeners: {
      public: { host: config.server.host, port: config.server.port },
      admin: config.admin ? { host: config.admin.host, port: config.admin.port } : null,
    },
    storage: config.storage.kind,
    logLevel: config.log.level,
  });
  await started;

  let relay: RunningRelay;
  try {
    relay = await startWhenStoreFree(() => startRelay(loaded, logger, listeners));
  } catch (error) {
    await flush(logger);
    return fail(error);
  }
  process.on('message', (message: SupervisorMessage) => {
    if (message.type === 'stop') void stop(relay, logger);
  });
  // Deliveries died with their thread: stop serving (what was acknowledged is committed) and
  // exit non-zero; the supervisor starts a new relay process, which delivers them.
  void relay.failed.then(() => stop(relay, logger, 1));
  send({ type: 'ready', port: relay.port, adminPort: relay.adminPort });
}

async function startWhenStoreFree(start: () => Promise<RunningRelay>): Promise<RunningRelay> {
  const deadline = Date.now() + STORE_LOCKED_WAIT_MS;
  for (;;) {
    try {
      return await start();
    } catch (error) {
      if (!isHookrelayError(error, 'HOOKRELAY_STORE_LOCKED') || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function stop(relay: RunningRelay, logger: Logger, code = 0): Promise<void> {
  try {
    await relay.stop();
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    code = 1;
  }
  await flush(logger);
  process.exit(code);
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  // Exit once the message is written (exiting at once could drop it).
  process.send?.({ type: 'failed', code: isHookrelayError(error) ? error.code : null, message } satisfies RelayMessage, () => process.exit(1));
}

function configPathFromSupervisor(): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (message: SupervisorMessage) => {
      if (message.type !== 'configure') return;
      process.off('message', onMessage);
      resolve(message.configPath);
    };
    process.on('message', onMessage);
  });
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

if (!process.send) {
  process.stderr.write('relay-main is started by `hookrelay serve`, not directly\n');
  process.exitCode = 2;
} else {
  await main(process.argv[2]);
}
