import type { Command } from 'commander';
import { withCommonOptions } from './common-options.js';
import type { SendTestOptions } from './send-test-action.js';

export function registerSendTest(program: Command): void {
  withCommonOptions(program.command('send-test'))
    .description("send a correctly signed sample callback to the running relay, as the source's producer would")
    .requiredOption('--source <name>', 'the source to impersonate (signed with its first secret)')
    .option('--body <file>', 'send this file as the body (default: a sample result with a fresh run_id)')
    .option('--url <url>', 'the relay\'s base URL (default: from server.host and server.port)')
    .action(async (options: SendTestOptions) => (await import('./send-test-action.js')).runSendTest(options));
}
