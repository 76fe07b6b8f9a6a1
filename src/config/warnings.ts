import type { EmptiedVariable } from './interpolate.js';
import type { Config } from './resolved-config.js';

/**
 * What is valid but almost certainly not meant, said at start (serve logs each at warn,
 * check-config prints them): a header whose `${VAR}` is empty (an unset token sends
 * `Authorization: Bearer `), and a source no destination takes (its callbacks are stored and
 * answered 202, then delivered nowhere).
 */
export function configWarnings(config: Config, emptied: readonly EmptiedVariable[]): string[] {
  const warnings: string[] = [];
  for (const { path, variable } of emptied) {
    const header = /^destinations\[(\d+)\]\.headers\.(.+)$/.exec(path);
    if (!header) continue;
    const value = config.destinations[Number(header[1])]?.headers[header[2]!];
    warnings.push(`${path}: \${${variable}} is empty, so every delivery sends ${header[2]}: ${JSON.stringify(value ?? '')}; set ${variable}`);
  }
  for (const source of config.sources) {
    if (!config.destinations.some((destination) => destination.sources.includes(source.name))) {
      warnings.push(`source ${source.name} has no destination: its callbacks are stored and answered 2xx, then delivered nowhere`);
    }
  }
  return warnings;
}
