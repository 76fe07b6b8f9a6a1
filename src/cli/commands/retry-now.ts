import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { printJson } from '../format.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

interface RetryNowOptions extends GlobalOptions {
  destination?: string;
}

export function registerRetryNow(program: Command): void {
  withCommonOptions(program.command('retry-now'))
    .description('pending deliveries waiting for a later retry become due now (attempt budget unchanged); an unknown destination exits 1')
    .option('--destination <name>', 'only this destination')
    .action(runRetryNow);
}

/** `retry-now`: waiting pending deliveries become due now; a running serve sends them on its next poll. */
async function runRetryNow(options: RetryNowOptions, command: Command): Promise<void> {
  const { retryNow } = await import('../../operator/retry-now.js');
  const result = await cliContext(command).withStore((context) => retryNow(context, { destination: options.destination }));
  if (options.json) {
    printJson(result);
    return;
  }
  const noun = result.matched === 1 ? 'delivery' : 'deliveries';
  process.stdout.write(
    `${result.matched} pending ${noun} due now` + (result.matched > 0 ? '; a running serve sends them within about a second\n' : '\n'),
  );
}
