import { createBatcher } from '../batcher.js';
import type { AttemptCompletion, FallbackDelivery } from '../glossary.js';
import type { Logger } from '../log.js';
import type { DeliveryStore } from '../store/store.js';
import type { Clock } from './clock.js';
import { createLogThrottle } from './log-throttle.js';

/** Delay before attempt results that could not be written are written again. */
export const COMPLETION_RETRY_MS = 200;
/** While attempt results cannot be written, say so once per this interval, not on every retry. */
const COMPLETION_ERROR_LOG_INTERVAL_MS = 5_000;
/** Most attempt results in one commit. */
const MAX_BATCH = 512;

/**
 * Write-behind recording of attempt results: results of attempts that end close together
 * share one commit (the one batcher). While storage refuses them (busy, full) they are kept
 * and written again every COMPLETION_RETRY_MS — within their leases — rather than dropped,
 * which would let the leases expire and send those deliveries a second time.
 */
export interface AttemptRecorder {
  /** Queues an attempt's result of `destination` for the next commit. Dropped once released. */
  record(destination: string, completion: AttemptCompletion): void;
  /** Deliveries whose result is queued or being written: still this process's, in flight. */
  recording(): ReadonlySet<string>;
  /**
   * Shutdown: results recorded from now on are dropped (the caller releases their deliveries),
   * and a commit that keeps failing is tried once more, then given up (the leases stay and the
   * deliveries are attempted again after restart: at-least-once).
   */
  release(): void;
  /** Resolves once every result queued so far is committed or given up. */
  drain(): Promise<void>;
}

export interface AttemptRecorderDeps {
  store: Pick<DeliveryStore, 'completeAttempts'>;
  /** The claimer's identity: results of leases it no longer holds change nothing. */
  owner: string;
  logger: Logger;
  clock: Clock;
  /** A commit returned: the fallback deliveries it created and the destinations whose results it held. */
  recorded(fallbacks: readonly FallbackDelivery[], destinations: ReadonlySet<string>): void;
}

interface Recorded {
  destination: string;
  completion: AttemptCompletion;
}

export function createAttemptRecorder({ store, owner, logger, clock, recorded }: AttemptRecorderDeps): AttemptRecorder {
  const recording = new Set<string>();
  const logRetry = createLogThrottle(COMPLETION_ERROR_LOG_INTERVAL_MS, () => clock.now());
  let released = false;
  /** Ends the wait before the next retry at once (shutdown). */
  let cutRetryWait: (() => void) | null = null;

  const waitBeforeRetry = () =>
    new Promise<void>((resolve) => {
      const cancel = clock.setTimer(() => {
        cutRetryWait = null;
        resolve();
      }, COMPLETION_RETRY_MS);
      cutRetryWait = () => {
        cancel();
        cutRetryWait = null;
        resolve();
      };
    });

  const commit = async (items: Recorded[]): Promise<void[]> => {
    const completions = items.map((item) => item.completion);
    for (;;) {
      try {
        const fallbacks = await store.completeAttempts(completions, owner);
        for (const completion of completions) recording.delete(completion.attempt.deliveryId);
        recorded(fallbacks, new Set(items.map((item) => item.destination)));
        return items.map(() => undefined);
      } catch (error) {
        if (released) {
          logger.error({ err: error, count: items.length }, 'could not record attempts');
          return items.map(() => undefined);
        }
        logRetry((failures) => logger.warn({ err: error, count: items.length, failures }, 'could not record attempts yet; retrying'));
        await waitBeforeRetry();
      }
    }
  };
  // One commit at a time: results that end while one runs go together in the next.
  const batcher = createBatcher({ flush: commit, maxBatch: MAX_BATCH, maxConcurrent: 1 });

  return {
    record(destination, completion) {
      if (released) return;
      recording.add(completion.attempt.deliveryId);
      // The commit never rejects: it retries inside, or gives up and logs after release.
      void batcher.add({ destination, completion });
    },
    recording: () => recording,
    release() {
      released = true;
      cutRetryWait?.();
    },
    drain: () => batcher.drain(),
  };
}
