export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
}

/** The backoff ceiling after the n-th failed attempt: `min(maxDelayMs, initialDelayMs * multiplier^(n-1))`. */
export function backoffCeilingMs(policy: RetryPolicy, failedAttempts: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
}

/**
 * The delay before the next attempt: the ceiling with jitter in [half, full], so retries of
 * many deliveries that failed together spread out. `random` returns a number in [0, 1).
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const ceiling = backoffCeilingMs(policy, failedAttempts);
  return Math.ceil(ceiling / 2 + (ceiling / 2) * random());
}
