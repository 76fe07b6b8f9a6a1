import { resolve } from 'node:path';
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { withCommonOptions } from './common-options.js';

/**
 * `serve`: runs the relay under a supervisor that keeps the listening sockets across reloads
 * (SIGHUP) until SIGTERM or SIGINT. The config is read (and validated) by the relay process,
 * with the code on disk, at every start and reload: this command only passes on its path.
 */
export function registerServe(program: Command): void {
  withCommonOptions(program.command('serve'), { json: false })
    .description('run the relay (logs JSON lines to stdout)')
    .action(async (_options: unknown, command: Command) => {
      const { runSupervisor } = await import('../../supervisor/supervisor.js');
      await runSupervisor(resolve(cliContext(command).configPath));
    });
}
