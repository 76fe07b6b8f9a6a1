import { HookrelayError } from '../errors.js';
import { RUNS_SOURCE } from '../glossary.js';
import { destinationNames, type OperatorContext } from './context.js';

/**
 * A filter naming a destination or source that neither the config nor the store knows is a
 * typo, not an empty answer: HOOKRELAY_UNKNOWN_DESTINATION / HOOKRELAY_UNKNOWN_SOURCE (exit 1)
 * naming it. Names the store still has (a destination removed from the config) stay valid.
 */
export async function assertKnownNames(context: OperatorContext, names: { destination?: string; source?: string }): Promise<void> {
  const { config, store } = context;
  if (names.destination !== undefined) {
    const configured = destinationNames(config);
    if (!configured.includes(names.destination)) {
      const counts = (await store.stats([names.destination])).destinations[names.destination];
      const stored = counts !== undefined && Object.values(counts).some((count) => count > 0);
      if (!stored) {
        throw new HookrelayError(
          'HOOKRELAY_UNKNOWN_DESTINATION',
          `unknown destination "${names.destination}" (configured: ${configured.join(', ') || 'none'})`,
        );
      }
    }
  }
  if (names.source !== undefined) {
    const configured = [...config.sources.map((source) => source.name), ...(config.runs ? [RUNS_SOURCE] : [])];
    if (!configured.includes(names.source) && (await store.findEvents({ source: names.source, limit: 1 })).length === 0) {
      throw new HookrelayError('HOOKRELAY_UNKNOWN_SOURCE', `unknown source "${names.source}" (configured: ${configured.join(', ') || 'none'})`);
    }
  }
}
