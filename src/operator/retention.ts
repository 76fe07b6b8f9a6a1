import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import type { OperatorStore } from '../store/store.js';

export interface RetentionDeps {
  config: Config;
  store: OperatorStore;
  logger: Logger;
  now?: () => number;
  /** Pause between two batches of one run, so ingress commits interleave with pruning. */
  pauseMs?: number;
}

export interface Retention {
  /** Starts pruning every `retention.intervalMs` (a no-op when `deliveredMaxAgeMs` is 0 and no source has a quarantine). */
  start(): void;
  /** Prunes everything prunable now, batch by batch; resolves with the number of events deleted. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for the batch in progress to finish. */
  stop(): Promise<void>;
}

const DEFAULT_PAUSE_MS = 10;

/**
 * Deletes events whose deliveries are all delivered and that were received more than
 * `retention.deliveredMaxAgeMs` ago, with their deliveries and attempts, in small batches
 * (`retention.batchSize` events per transaction) with a pause between batches. Events with a
 * pending, in-flight or dead delivery are never touched; so their dedupe keys stay too.
 */
export function createRetention({ config, store, logger, now = Date.now, pauseMs = DEFAULT_PAUSE_MS }: RetentionDeps): Retention {
  const { deliveredMaxAgeMs, intervalMs, batchSize } = config.retention;
  const log = logger.child({ component: 'retention' });
  const abort = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  const quarantining = config.sources.filter((source) => source.quarantine !== undefined);
  /** Quarantined callbacks past their source's maxAgeMs (a new rejection prunes too, but none may come). */
  const pruneQuarantine = async () => {
    for (const source of quarantining) {
      const deleted = await store.pruneQuarantined(source.name, now() - source.quarantine!.maxAgeMs);
      if (deleted > 0) log.info({ source: source.name, count: deleted }, 'pruned quarantined callbacks past maxAgeMs');
    }
  };

  const prune = async (): Promise<number> => {
    await pruneQuarantine();
    if (deliveredMaxAgeMs <= 0) return 0;
    const before = now() - deliveredMaxAgeMs;
    let total = 0;
    while (!abort.signal.aborted) {
      const deleted = await store.pruneDelivered(before, batchSize);
      total += deleted;
      if (deleted < batchSize) break;
      await sleep(pauseMs, undefined, { signal: abort.signal }).catch(() => undefined);
    }
    if (total > 0) log.info({ count: total, before: new Date(before).toISOString() }, 'pruned delivered events');
    return total;
  };

  const runOnce = (): Promise<number> => {
    running ??= prune().finally(() => {
      running = null;
    });
    return running;
  };

  const tick = () => {
    runOnce()
      .catch((error: unknown) => log.error({ err: error }, 'pruning failed; will try again'))
      .finally(() => {
        if (!abort.signal.aborted) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(tick, intervalMs);
    timer.unref();
  };

  return {
    start() {
      if ((deliveredMaxAgeMs <= 0 && quarantining.length === 0) || timer || abort.signal.aborted) return;
      schedule();
    },
    runOnce,
    async stop() {
      abort.abort();
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}
