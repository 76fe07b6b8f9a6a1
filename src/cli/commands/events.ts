import type { Command } from 'commander';
import { HookrelayError } from '../../errors.js';
import { EVENT_MATCH_DEFAULT } from '../../operator/events.js';
import { withCommonOptions } from './common-options.js';
import type { EventsSearchOptions, EventsShowOptions } from './events-action.js';

export function registerEvents(program: Command): void {
  const events = program
    .command('events')
    .description('find stored events by event id, run id or dedupe key')
    // Without a known subcommand, whatever follows is answered with one usage line (exit 2).
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new HookrelayError('HOOKRELAY_USAGE', 'events needs a subcommand: events search QUERY, events show ID_OR_RUN_ID');
    });

  withCommonOptions(events.command('search'))
    .description('events whose id, run id or dedupe key equals or starts with QUERY, newest first (JSON lines with --json)')
    .argument('<query>', 'an event id, run id or dedupe key, or the start of one')
    .option('--limit <n>', 'at most this many', String(EVENT_MATCH_DEFAULT))
    .action(async (query: string, options: EventsSearchOptions) => (await import('./events-action.js')).runEventsSearch(query, options));

  withCommonOptions(events.command('show'))
    .description('one event with its deliveries and their attempts (exit 1 when unknown)')
    .argument('<idOrRunId>', 'an event id, run id or dedupe key')
    .option('--body', 'print the body too')
    .action(async (reference: string, options: EventsShowOptions) => (await import('./events-action.js')).runEventsShow(reference, options));
}
