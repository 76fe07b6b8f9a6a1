import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HookrelayError } from '../../errors.js';
import { cliContext } from '../context.js';
import { printJson } from '../format.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

interface SendTestOptions extends GlobalOptions {
  source: string;
  body?: string;
  url?: string;
}

export function registerSendTest(program: Command): void {
  withCommonOptions(program.command('send-test'))
    .description("send a correctly signed sample callback to the running relay, as the source's producer would")
    .requiredOption('--source <name>', 'the source to impersonate (signed with its first secret)')
    .option('--body <file>', 'send this file as the body (default: a sample result with a fresh run_id)')
    .option('--url <url>', 'the relay\'s base URL (default: from server.host and server.port)')
    .action(runSendTest);
}

/** `send-test`: posts a correctly signed sample callback to the running relay. */
async function runSendTest(options: SendTestOptions, command: Command): Promise<void> {
  const { sendTestCallback } = await import('../../operator/send-test.js');
  const { config } = cliContext(command).loadConfig();
  let body: Buffer | undefined;
  if (options.body !== undefined) {
    try {
      body = readFileSync(options.body);
    } catch (error) {
      throw new HookrelayError('HOOKRELAY_USAGE', `--body: cannot read ${options.body}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const result = await sendTestCallback(config, { source: options.source, body, url: options.url });
  const ok = result.status >= 200 && result.status < 300;
  if (options.json) printJson(result);
  else {
    process.stdout.write(`POST ${result.url} -> ${result.status}\n${typeof result.answer === 'string' ? result.answer : JSON.stringify(result.answer)}\n`);
  }
  if (!ok) {
    throw new HookrelayError(
      result.status === 401 ? 'HOOKRELAY_SIGNATURE_INVALID' : 'HOOKRELAY_RELAY_UNREACHABLE',
      result.status === 401
        ? 'the relay rejected the signature: is serve running with this config and these secrets?'
        : `the relay answered ${result.status}`,
    );
  }
}
