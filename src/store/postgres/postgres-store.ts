import { HookrelayError } from '../../errors.js';
import type { Store } from '../store.js';

export interface PostgresStoreOptions {
  url: string;
  poolSize: number;
  schema: string;
  role: 'serve' | 'cli';
}

/** The PostgreSQL adapter (issue 7) is not built yet; configuring it fails clearly at start-up. */
export async function openPostgresStore(_options: PostgresStoreOptions): Promise<Store> {
  throw new HookrelayError('HOOKRELAY_CONFIG_INVALID', 'storage.postgres: the PostgreSQL adapter is not available in this build; use storage.sqlite');
}
