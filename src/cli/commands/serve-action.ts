import { loadConfigFile, resolveConfigPath } from '../../config/load.js';
import { createLogger } from '../../log.js';
import { startRelay, type RunningRelay } from '../../serve.js';
import type { GlobalOptions } from './common-options.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** `serve`: runs the relay until SIGTERM or SIGINT, then stops it in order. */
export async function runServe(options: GlobalOptions): Promise<void> {
  const loaded = loadConfigFile(resolveConfigPath(options.config));
  const logger = createLogger({ level: loaded.config.log.level });
  // The handlers go in before start-up: without a listener, Node ends the process at once on
  // these signals, and a script may send one as soon as it reads the listening line. A signal
  // received while starting stops the relay as soon as it has started.
  let signalled = false;
  let stopRequested!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      logger.flush();
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received');
    stopRequested();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let relay: RunningRelay;
  try {
    relay = await startRelay(loaded, logger);
  } catch (error) {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    throw error;
  }
  await stopSignal;
  try {
    await relay.stop();
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exitCode = 1;
  }
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}
