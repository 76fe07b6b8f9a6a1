import { isHookrelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RunStore } from '../store/store.js';
import type { StatusAnswer } from './run-status.js';
import type { StatusClient } from './status-client.js';

/**
 * Submitted runs turned overdue per transaction, and batches per tick (a backlog drains over
 * several ticks). Small batches: on SQLite an ingest commit waits for the batch in progress
 * (bench: a batch of 500 held the writer ~50 ms, one of 100 ~12 ms).
 */
export const SWEEP_BATCH = 100;
const SWEEP_BATCHES_PER_TICK = 50;
/** Overdue runs claimed for a status check per tick, and checks in flight at once: the most Cerebrium sees from one process. */
const CHECK_BATCH = 50;
const CHECK_CONCURRENCY = 4;
/** A claimed check belongs to this process this long (a process that dies mid-check lets go after it). */
const CHECK_LEASE_MS = 60_000;
/** After a 429, a 5xx or a network error the checks pause: doubling from the first, up to the last. */
const PAUSE_MIN_MS = 1_000;
const PAUSE_MAX_MS = 300_000;
/** Runs named one line each per batch; beyond this a batch adds one line with the count (a backlog after an outage). */
const LOG_EACH_MAX = 20;

export interface RunCheckerDeps {
  store: RunStore;
  logger: Logger;
  /** Null without `runs.status`: overdue runs are then never checked. */
  statusClient: StatusClient | null;
  settings: {
    /** `runs.source`. */
    callbackSource: string;
    /** Destinations that list the source `runs`. */
    announceTo: readonly string[];
    /** `runs.status.everyMs`. */
    everyMs: number;
    /** How often the checker looks for due runs. */
    tickMs: number;
  };
  /** Announcements were committed with deliveries to these destinations (wake the dispatcher). */
  announced?(destinations: readonly string[]): void;
  now?: () => number;
}

export interface RunChecker {
  start(): void;
  /** One pass: overdue sweep, then one batch of status checks. Resolves when both are done. */
  tick(): Promise<void>;
  /** Stops ticking; a pass in progress ends (checks in flight are cut short and checked again after their lease). */
  stop(): Promise<void>;
}

/**
 * Finds the callbacks that never came: submitted runs past `overdueAfterMs` become overdue
 * (announced), and with a status API each overdue run is asked about every `everyMs`; one that
 * ended becomes lost (announced). Everything it reads is due in an index; every write is a
 * store transaction that several processes may run at once.
 */
export function createRunChecker({ store, logger, statusClient, settings, announced, now = Date.now }: RunCheckerDeps): RunChecker {
  const log = logger.child({ component: 'runs' });
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let pausedUntil = 0;
  let pauses = 0;

  const announce = () => {
    if (settings.announceTo.length > 0) announced?.(settings.announceTo);
  };

  const sweep = async () => {
    for (let batch = 0; batch < SWEEP_BATCHES_PER_TICK && !stopping.signal.aborted; batch++) {
      const at = now();
      const overdue = await store.markOverdueRuns({
        now: at,
        limit: SWEEP_BATCH,
        callbackSource: settings.callbackSource,
        announceTo: settings.announceTo,
        nextCheckAt: statusClient ? at : null,
      });
      for (const run of overdue.slice(0, LOG_EACH_MAX)) log.warn({ runId: run.runId, app: run.app, submittedAt: new Date(run.submittedAt).toISOString() }, 'run overdue: no callback yet');
      if (overdue.length > LOG_EACH_MAX) log.warn({ count: overdue.length - LOG_EACH_MAX }, 'more runs overdue (see hookrelay runs list --status overdue)');
      if (overdue.length > 0) announce();
      if (overdue.length < SWEEP_BATCH) return;
    }
  };

  const check = async () => {
    if (!statusClient || now() < pausedUntil) return;
    const claimed = await store.claimRunChecks({ now: now(), limit: CHECK_BATCH, leaseExpiresAt: now() + CHECK_LEASE_MS });
    if (claimed.length === 0) return;
    const answers = new Map<string, StatusAnswer>();
    type Unknown = Extract<StatusAnswer, { kind: 'unknown' }>;
    const state: { throttled: Unknown | null } = { throttled: null };
    const queue = [...claimed];
    const worker = async () => {
      for (let run = queue.shift(); run && !state.throttled && !stopping.signal.aborted; run = queue.shift()) {
        const answer = await statusClient.check(run, stopping.signal);
        answers.set(run.runId, answer);
        if (answer.kind === 'unknown' && answer.throttled) state.throttled ??= answer;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, claimed.length) }, worker));
    if (stopping.signal.aborted) return;
    const { throttled } = state;

    const finished = claimed.filter((run) => answers.get(run.runId)?.kind === 'finished');
    const again = claimed.filter((run) => !finished.includes(run));
    if (throttled) {
      pauses++;
      const pause = Math.max(throttled.retryAfterMs ?? 0, Math.min(PAUSE_MAX_MS, PAUSE_MIN_MS * 2 ** (pauses - 1)));
      pausedUntil = now() + pause;
      log.warn({ reason: throttled.reason, pauseMs: pause }, 'run status API unavailable: pausing checks');
    } else {
      pauses = 0;
    }
    for (const run of again) {
      const answer = answers.get(run.runId);
      if (answer?.kind === 'unknown' && !answer.throttled) log.warn({ runId: run.runId, reason: answer.reason }, 'run status unknown: checking again later');
    }
    // Unchecked runs and failed checks wait for the pause; the others for the next interval.
    const unchecked = again.filter((run) => answers.get(run.runId)?.kind !== 'running');
    const checked = again.filter((run) => answers.get(run.runId)?.kind === 'running');
    await store.scheduleRunChecks(checked.map((run) => run.runId), now() + settings.everyMs);
    await store.scheduleRunChecks(unchecked.map((run) => run.runId), Math.max(pausedUntil, now() + (throttled ? 0 : settings.everyMs)));
    if (finished.length === 0) return;
    const lost = await store.markRunsLost(finished.map((run) => run.runId), now(), settings.announceTo);
    for (const run of lost) {
      const answer = answers.get(run.runId) as Extract<StatusAnswer, { kind: 'finished' }>;
      log.error({ runId: run.runId, app: run.app, status: answer.status }, 'run lost: it ended without a callback');
    }
    if (lost.length > 0) announce();
  };

  const tick = (): Promise<void> =>
    (running ??= (async () => {
      try {
        await sweep();
        await check();
      } catch (error) {
        if (isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE') || isHookrelayError(error, 'HOOKRELAY_SHUTTING_DOWN')) {
          log.warn({ err: error }, 'run checker: storage unavailable, trying again');
        } else {
          log.error({ err: error }, 'run checker failed, trying again');
        }
      } finally {
        running = null;
      }
    })());

  const schedule = () => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => void tick().then(schedule), settings.tickMs);
    timer.unref?.();
  };

  return {
    start: schedule,
    tick,
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
