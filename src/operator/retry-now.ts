import { HookrelayError } from '../errors.js';
import { destinationNames, nowOf, type OperatorContext } from './context.js';

export interface RetryNowResult {
  matched: number;
}

/**
 * Pending deliveries that wait for a later retry (backoff can hold them for many minutes after
 * a consumer recovers) become due now, for one destination or every configured one. Attempt
 * count and budget stay as they are; a destination whose circuit is open still waits for it.
 */
export async function retryNow(context: OperatorContext, request: { destination?: string }): Promise<RetryNowResult> {
  const configured = destinationNames(context.config);
  if (request.destination !== undefined && !configured.includes(request.destination)) {
    throw new HookrelayError(
      'HOOKRELAY_UNKNOWN_DESTINATION',
      `unknown destination "${request.destination}" (configured: ${configured.join(', ') || 'none'})`,
    );
  }
  const destinations = request.destination === undefined ? configured : [request.destination];
  return { matched: await context.store.retryNow(destinations, nowOf(context)) };
}
