import CircuitBreaker from 'opossum';
import type { DestinationConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import type { BreakerState, DeliveryObserver } from './observer.js';
import type { SendResult, Verdict } from './outcome.js';

/** Rejection of a sent attempt that failed; carries its result so the caller can log it. */
export class AttemptFailedError extends Error {
  override readonly name = 'AttemptFailedError';
  readonly code = 'HOOKRELAY_ATTEMPT_FAILED';
  constructor(
    readonly result: SendResult,
    readonly verdict: Verdict,
  ) {
    super('attempt failed');
  }
}

/** Opossum's code when a breaker refuses a call without running it. */
export const BREAKER_OPEN_CODE = 'EOPENBREAKER';

export type Attempter = () => Promise<{ result: SendResult; verdict: Verdict }>;

export interface DestinationBreaker {
  /** Runs the attempt through the breaker; rejects with code EOPENBREAKER when it refused to. */
  run(attempt: Attempter): Promise<{ result: SendResult; verdict: Verdict }>;
  /** How many attempts may start now: 0 while open, 1 while half-open, unlimited while closed. */
  capacity(): number;
  state(): BreakerState;
  shutdown(): void;
}

/**
 * One opossum breaker per destination. Failed attempts reject inside the breaker so they
 * count; failures whose verdict does not trip the breaker (a receiver's 4xx) are filtered
 * out by `errorFilter`. Transitions are logged once each and reported to the observer;
 * `onHalfOpen` lets the dispatcher send its probe as soon as the breaker allows one.
 */
export function createBreaker(
  destination: DestinationConfig,
  logger: Logger,
  observer: DeliveryObserver,
  onHalfOpen: () => void,
): DestinationBreaker {
  const options = destination.circuitBreaker;
  const breaker = new CircuitBreaker(async (attempt: Attempter) => {
    const outcome = await attempt();
    if (outcome.verdict.outcome === 'failed') throw new AttemptFailedError(outcome.result, outcome.verdict);
    return outcome;
  }, {
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    rollingCountTimeout: options.rollingWindowMs,
    rollingCountBuckets: 10,
    resetTimeout: options.resetTimeoutMs,
    errorFilter: (error: unknown) => error instanceof AttemptFailedError && !error.verdict.tripsBreaker,
    name: destination.name,
    // Nothing listens to opossum's per-second 'snapshot' events or reads its latency
    // percentiles: without them an idle breaker costs one bucket rotation a second, not three
    // timers' worth of summing and sorting (50 destinations: 100 callbacks a second fewer).
    enableSnapshots: false,
    rollingPercentilesEnabled: false,
  });
  const log = logger.child({ component: 'breaker', destination: destination.name });
  let current: BreakerState = 'closed';
  const transition = (state: BreakerState, message: string, level: 'warn' | 'info') => {
    if (current === state) return;
    current = state;
    log[level]({ state }, message);
    observer.breakerChanged?.(destination.name, state);
  };
  breaker.on('open', () => transition('open', 'circuit opened: deliveries to this destination wait', 'warn'));
  breaker.on('halfOpen', () => {
    transition('half_open', 'circuit half-open: sending one probe', 'info');
    onHalfOpen();
  });
  breaker.on('close', () => transition('closed', 'circuit closed: destination recovered', 'info'));

  return {
    run: (attempt) => breaker.fire(attempt) as Promise<{ result: SendResult; verdict: Verdict }>,
    capacity: () => (breaker.closed ? Number.POSITIVE_INFINITY : breaker.pendingClose ? 1 : 0),
    state: () => current,
    shutdown: () => breaker.shutdown(),
  };
}
