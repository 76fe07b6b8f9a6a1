import { loadOperatorConfig } from '../load-operator-config.js';
import { withOperatorContext } from '../../operator/open-context.js';
import { checkReplayUsage, replayDeadLetters, type ReplayRequest } from '../../operator/replay.js';
import { parseSince } from '../../operator/since.js';
import { printJson } from '../format.js';
import type { GlobalOptions } from './common-options.js';

export interface ReplayOptions extends GlobalOptions {
  id?: string[];
  destination?: string;
  all?: boolean;
  since?: string;
  dryRun?: boolean;
}

/** `replay`: moves matching dead deliveries back to pending with a fresh attempt budget. */
export async function runReplay(options: ReplayOptions): Promise<void> {
  const request: ReplayRequest = {
    ids: options.id?.flatMap((value) => value.split(',')),
    destination: options.destination,
    all: options.all,
    since: options.since === undefined ? undefined : parseSince(options.since, Date.now()),
    dryRun: options.dryRun === true,
  };
  checkReplayUsage(request);
  const config = loadOperatorConfig(options.config);
  const progress = !options.json && process.stderr.isTTY ? createProgress() : null;
  const result = await withOperatorContext(config, (context) =>
    replayDeadLetters(context, request, { onProgress: progress?.update }),
  );
  progress?.done();
  if (options.json) {
    printJson(result);
    return;
  }
  if (result.dryRun) {
    process.stdout.write(`would replay ${result.matched} dead ${plural(result.matched)} (dry run: nothing changed)\n`);
    return;
  }
  const skipped = result.matched - result.replayed;
  process.stdout.write(
    `replayed ${result.replayed} of ${result.matched} dead ${plural(result.matched)}` +
      (skipped > 0 ? ` (${skipped} left dead: their destination is not in the config, or they changed meanwhile)` : '') +
      (result.replayed > 0 ? '; a running serve picks them up within about a second' : '') +
      '\n',
  );
}

function plural(count: number): string {
  return count === 1 ? 'delivery' : 'deliveries';
}

/** A one-line counter on the terminal (stderr), redrawn at most every 100 ms. */
function createProgress() {
  let last = 0;
  let shown = false;
  return {
    update: (replayed: number, total: number) => {
      const now = Date.now();
      if (now - last < 100 && replayed < total) return;
      last = now;
      shown = true;
      process.stderr.write(`\rreplaying: ${replayed}/${total}`);
    },
    done: () => {
      if (shown) process.stderr.write('\n');
    },
  };
}
