import { loadConfigFile, resolveConfigPath, type Config } from '../config/load.js';

/**
 * The config for an operator command (stats, dlq, deliveries, events, runs, replay, redeliver,
 * retry-now): these read and change the store only, never verify or sign, so an unset source
 * secret, token or header variable does not stop them.
 */
export function loadOperatorConfig(explicitPath: string | undefined): Config {
  return loadConfigFile(resolveConfigPath(explicitPath), process.env, { secretsRequired: false }).config;
}
