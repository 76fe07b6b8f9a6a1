import type { Config } from '../config/load.js';
import type { DeliveryStore, OperatorStore, RunStore } from '../store/store.js';

/**
 * What every operator operation receives. The CLI, the admin API and the dashboard call the
 * same functions with it; each returns plain data in the contract's shapes.
 */
export interface OperatorContext {
  config: Config;
  /** Operator tools read and repair; releasing a quarantined callback ingests it; `runs` records runs. */
  store: OperatorStore & RunStore & Pick<DeliveryStore, 'ingest'>;
  /** Clock, for tests; defaults to `Date.now`. */
  now?: () => number;
}

export function nowOf(context: OperatorContext): number {
  return (context.now ?? Date.now)();
}

export function destinationNames(config: Config): string[] {
  return config.destinations.map((destination) => destination.name);
}
