import type { Command } from 'commander';
import type { Config, LoadedConfig } from '../config/load.js';
import type { OperatorContext } from '../operator/context.js';

/**
 * What every command's action receives from the program's preAction hook: the config path,
 * resolved once from `--config`, and the one way to load the config and to open the store.
 * The config is read when the action asks for it, after the action's own usage checks, so a
 * bad flag is still reported before a missing or invalid config file.
 */
export interface CliContext {
  /** `--config`, else `$HOOKRELAY_CONFIG`, else config/hookrelay.yaml. */
  readonly configPath: string;
  /** The whole config, for commands that verify or sign: an unset secret variable is a config error. */
  loadConfig(): LoadedConfig;
  /**
   * The config for commands that only read and change the store: they never verify or sign,
   * so an unset source secret, token or header variable does not stop them.
   */
  loadStoreConfig(): Config;
  /**
   * Opens the configured store as a CLI client (it shares the database with a running `serve`),
   * runs `work`, and closes the store whatever happens. `config` defaults to `loadStoreConfig()`.
   */
  withStore<T>(work: (context: OperatorContext) => Promise<T>, config?: Config): Promise<T>;
}

const contexts = new WeakMap<Command, CliContext>();

/** Installs the hook that gives the command about to run its CliContext. */
export function provideCliContext(program: Command): void {
  program.hook('preAction', async (_program, actionCommand) => {
    const { loadConfigFile, resolveConfigPath } = await import('../config/load.js');
    const configPath = resolveConfigPath(actionCommand.opts<{ config?: string }>().config);
    const loadStoreConfig = () => loadConfigFile(configPath, process.env, { secretsRequired: false }).config;
    contexts.set(actionCommand, {
      configPath,
      loadConfig: () => loadConfigFile(configPath),
      loadStoreConfig,
      withStore: (work, config = loadStoreConfig()) => withOpenStore(config, work),
    });
  });
}

/** The context of the running command (its action's last argument). */
export function cliContext(command: Command): CliContext {
  const context = contexts.get(command);
  if (context === undefined) throw new Error(`hookrelay ${command.name()} ran without its CLI context`);
  return context;
}

/** The CLI's one place that opens the store. */
async function withOpenStore<T>(config: Config, work: (context: OperatorContext) => Promise<T>): Promise<T> {
  const { openStore } = await import('../store/open-store.js');
  const store = await openStore(config.storage, { client: 'cli', lock: false, thread: 'inline', mustExist: true });
  try {
    return await work({ config, store });
  } finally {
    await store.close();
  }
}
