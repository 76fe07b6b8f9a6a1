import type { Command } from 'commander';
import { loadConfigFile, resolveConfigPath } from '../../config/load.js';
import { createLogger } from '../../log.js';
import { startRelay } from '../../serve.js';
import { withCommonOptions, type GlobalOptions } from '../program.js';

export function registerServe(program: Command): void {
  withCommonOptions(program.command('serve'), { json: false })
    .description('run the relay (logs JSON lines to stdout)')
    .action(async (options: GlobalOptions) => {
      const loaded = loadConfigFile(resolveConfigPath(options.config));
      const logger = createLogger({ level: loaded.config.log.level });
      const relay = await startRelay(loaded, logger);
      await new Promise<void>((resolve) => {
        let signalled = false;
        const onSignal = (signal: NodeJS.Signals) => {
          if (signalled) {
            logger.warn({ signal }, 'second signal: exiting now');
            logger.flush();
            process.exit(1);
          }
          signalled = true;
          logger.info({ signal }, 'signal received');
          relay.stop().then(resolve, (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    });
}
