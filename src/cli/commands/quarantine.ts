import type { Command } from 'commander';
import type { ReleaseRequest } from '../../operator/quarantine.js';
import { cliContext } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { commandGroup, withCommonOptions, type GlobalOptions } from './common-options.js';

interface QuarantineListOptions extends GlobalOptions {
  source?: string;
}

interface QuarantineReleaseOptions extends GlobalOptions {
  id?: string[];
  source?: string;
  all?: boolean;
  force?: boolean;
}

export function registerQuarantine(program: Command): void {
  const quarantine = commandGroup(
    program,
    'quarantine',
    'callbacks rejected for their signature or timestamp, kept by sources with quarantine set',
    'quarantine list, quarantine release',
  );

  withCommonOptions(quarantine.command('list'))
    .description('quarantined callbacks, newest first (JSON lines with --json)')
    .option('--source <name>', 'only this source')
    .action(runQuarantineList);

  withCommonOptions(quarantine.command('release'))
    .description('verify quarantined callbacks again with the current secrets and ingest those that pass; the rest stay')
    .option('--id <ids...>', 'these quarantined callbacks (ids as printed by quarantine list)')
    .option('--source <name>', "this source's quarantined callbacks")
    .option('--all', 'every quarantined callback')
    .option('--force', 'ingest without verifying (an explicit operator decision, logged)')
    .action(runQuarantineRelease);
}

/** `quarantine list`: what rejected callbacks are held, newest first. */
async function runQuarantineList(options: QuarantineListOptions, command: Command): Promise<void> {
  const { listQuarantine } = await import('../../operator/quarantine.js');
  const entries = await cliContext(command).withStore((context) => listQuarantine(context, { source: options.source }));
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
async function runQuarantineRelease(options: QuarantineReleaseOptions, command: Command): Promise<void> {
  const { checkReleaseUsage, releaseQuarantined } = await import('../../operator/quarantine.js');
  const { createLogger } = await import('../../log.js');
  const request: ReleaseRequest = {
    ids: options.id?.flatMap((value) => value.split(',')).filter(Boolean),
    source: options.source,
    all: options.all,
    force: options.force === true,
  };
  checkReleaseUsage(request);
  // Unlike the read-only commands, a release verifies: it needs the sources' secrets.
  const cli = cliContext(command);
  const { config } = cli.loadConfig();
  // Log lines (a forced release, an undecodable body) go to stderr; stdout carries the result.
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const result = await cli.withStore((context) => releaseQuarantined(context, request, log), config);
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
