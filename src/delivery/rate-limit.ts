/**
 * `rateLimit.perSecond` of one destination, in this process: a sliding window over the last
 * starts. At most `n = max(1, floor(perSecond))` attempts start in any window of
 * `n / perSecond` seconds (1 s for a whole perSecond; 2 s for 0.5), so no second ever sees
 * more than perSecond starts. Waiting is not an attempt: nothing is counted or dropped.
 */
export interface RateLimiter {
  /** Takes a start at `now` (unix ms) and returns 0, or returns how many ms until one frees (nothing taken). */
  tryStart(now: number): number;
  /** Most deliveries worth holding ready: what can start within `withinMs`. */
  startsWithin(withinMs: number): number;
}

export function createRateLimiter(perSecond: number): RateLimiter {
  const slots = Math.max(1, Math.floor(perSecond));
  const windowMs = (slots / perSecond) * 1000;
  /** Times of the last `slots` starts, oldest first. */
  const starts: number[] = [];
  return {
    tryStart(now) {
      if (starts.length === slots) {
        const freeAt = starts[0]! + windowMs;
        if (now < freeAt) return Math.ceil(freeAt - now);
        starts.shift();
      }
      starts.push(now);
      return 0;
    },
    startsWithin(withinMs) {
      return Math.max(1, Math.floor((perSecond * withinMs) / 1000));
    },
  };
}
