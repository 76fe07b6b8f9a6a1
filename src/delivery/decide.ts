import type { AttemptDecision } from '../glossary.js';
import { backoffDelayMs, type RetryPolicy } from './backoff.js';
import type { SendResult, Verdict } from './outcome.js';

/**
 * After a sent attempt: delivered, dead (budget spent), or retried after the backoff — or
 * after `Retry-After` when the policy honours it and it asks for longer, up to `maxDelayMs`
 * (a receiver cannot park a delivery beyond the longest backoff). Pure.
 */
export function decideNext(
  verdict: Verdict,
  result: SendResult,
  budgetUsedBefore: number,
  policy: RetryPolicy,
  nowMs: number,
  random: () => number = Math.random,
): AttemptDecision {
  if (verdict.outcome === 'delivered') return { kind: 'delivered' };
  const failedInBudget = budgetUsedBefore + 1;
  if (failedInBudget >= policy.maxAttempts) return { kind: 'dead' };
  let delay = backoffDelayMs(policy, failedInBudget, random);
  if (verdict.honoursRetryAfter && result.kind === 'response' && result.retryAfterMs !== undefined) {
    delay = Math.max(delay, Math.min(result.retryAfterMs, policy.maxDelayMs));
  }
  return { kind: 'retry', nextAttemptAt: nowMs + delay };
}
