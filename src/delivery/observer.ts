import type { AttemptOutcome } from '../glossary.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What the delivery engine reports as it works (metrics subscribe to it). */
export interface DeliveryObserver {
  attempted?(destination: string, outcome: AttemptOutcome, durationSeconds: number): void;
  breakerChanged?(destination: string, state: BreakerState): void;
  /** A delivery to `from` died and one to its fallback `to` was committed. */
  fellBack?(from: string, to: string): void;
  /** Deliveries due to `destination` waited this long for its rate limit before the next attempt started. */
  rateLimited?(destination: string, waitedSeconds: number): void;
}
