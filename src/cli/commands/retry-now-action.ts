import { withOperatorContext } from '../../operator/open-context.js';
import { retryNow } from '../../operator/retry-now.js';
import { printJson } from '../format.js';
import { loadOperatorConfig } from '../load-operator-config.js';
import type { GlobalOptions } from './common-options.js';

export interface RetryNowOptions extends GlobalOptions {
  destination?: string;
}

/** `retry-now`: waiting pending deliveries become due now; a running serve sends them on its next poll. */
export async function runRetryNow(options: RetryNowOptions): Promise<void> {
  const config = loadOperatorConfig(options.config);
  const result = await withOperatorContext(config, (context) => retryNow(context, { destination: options.destination }));
  if (options.json) {
    printJson(result);
    return;
  }
  const noun = result.matched === 1 ? 'delivery' : 'deliveries';
  process.stdout.write(
    `${result.matched} pending ${noun} due now` + (result.matched > 0 ? '; a running serve sends them within about a second\n' : '\n'),
  );
}
