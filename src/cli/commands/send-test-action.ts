import { readFileSync } from 'node:fs';
import { loadConfigFile, resolveConfigPath } from '../../config/load.js';
import { HookrelayError } from '../../errors.js';
import { sendTestCallback } from '../../operator/send-test.js';
import { printJson } from '../format.js';
import type { GlobalOptions } from './common-options.js';

export interface SendTestOptions extends GlobalOptions {
  source: string;
  body?: string;
  url?: string;
}

/** `send-test`: posts a correctly signed sample callback to the running relay. */
export async function runSendTest(options: SendTestOptions): Promise<void> {
  const { config } = loadConfigFile(resolveConfigPath(options.config));
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
