import type { Config } from '../config/load.js';
import { openStore } from '../store/open-store.js';
import type { OperatorContext } from './context.js';

/**
 * Opens the configured store as a CLI client (it shares the database with a running `serve`),
 * runs `work`, and closes the store whatever happens.
 */
export async function withOperatorContext<T>(config: Config, work: (context: OperatorContext) => Promise<T>): Promise<T> {
  const store = await openStore(config.storage, { client: 'cli', lock: false, thread: 'inline', mustExist: true });
  try {
    return await work({ config, store });
  } finally {
    await store.close();
  }
}
