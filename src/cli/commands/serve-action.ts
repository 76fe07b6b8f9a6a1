import { resolve } from 'node:path';
import { resolveConfigPath } from '../../config/load.js';
import { runSupervisor } from '../../supervisor/supervisor.js';
import type { GlobalOptions } from './common-options.js';

/**
 * `serve`: runs the relay under a supervisor that keeps the listening sockets across reloads
 * (SIGHUP) until SIGTERM or SIGINT. The config is read (and validated) by the relay process,
 * with the code on disk, at every start and reload.
 */
export async function runServe(options: GlobalOptions): Promise<void> {
  await runSupervisor(resolve(resolveConfigPath(options.config)));
}
