import { createLogger } from '../../log.js';
import { loadConfigFile, resolveConfigPath } from '../../config/load.js';
import { withOperatorContext } from '../../operator/open-context.js';
import { checkReleaseUsage, listQuarantine, releaseQuarantined, type ReleaseRequest } from '../../operator/quarantine.js';
import { formatTable, printJson } from '../format.js';
import { loadOperatorConfig } from '../load-operator-config.js';
import type { GlobalOptions } from './common-options.js';

export interface QuarantineListOptions extends GlobalOptions {
  source?: string;
}

export interface QuarantineReleaseOptions extends GlobalOptions {
  id?: string[];
  source?: string;
  all?: boolean;
  force?: boolean;
}

/** `quarantine list`: what rejected callbacks are held, newest first. */
export async function runQuarantineList(options: QuarantineListOptions): Promise<void> {
  const config = loadOperatorConfig(options.config);
  const entries = await withOperatorContext(config, (context) => listQuarantine(context, { source: options.source }));
  if (options.json) {
    for (const entry of entries) printJson(entry);
    return;
  }
  if (entries.length === 0) {
    process.stdout.write('nothing quarantined\n');
    return;
  }
  process.stdout.write(
    formatTable([['id', 'source', 'reason', 'received at', 'bytes'], ...entries.map((e) => [e.id, e.source, e.reason, e.receivedAt, String(e.size)])]) +
      '\nRelease with: hookrelay quarantine release --source NAME (or --id ID..., --all) once the secret is in the config.\n',
  );
}

/** `quarantine release`: verifies again with the current secrets and ingests what passes. */
export async function runQuarantineRelease(options: QuarantineReleaseOptions): Promise<void> {
  const request: ReleaseRequest = {
    ids: options.id?.flatMap((value) => value.split(',')).filter(Boolean),
    source: options.source,
    all: options.all,
    force: options.force === true,
  };
  checkReleaseUsage(request);
  // Unlike the read-only commands, a release verifies: it needs the sources' secrets.
  const { config } = loadConfigFile(resolveConfigPath(options.config));
  // Log lines (a forced release, an undecodable body) go to stderr; stdout carries the result.
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const result = await withOperatorContext(config, (context) => releaseQuarantined(context, request, log));
  if (options.json) {
    printJson(result);
    return;
  }
  const left = result.matched - result.released;
  process.stdout.write(
    `released ${result.released} of ${result.matched} quarantined callback${result.matched === 1 ? '' : 's'}` +
      (left > 0 ? ` (${left} left: their signature does not verify with the current secrets, or their source is gone)` : '') +
      (result.released > 0 ? '; a running serve delivers them as any other event' : '') +
      '\n',
  );
}
