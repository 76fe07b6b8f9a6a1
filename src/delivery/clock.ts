/**
 * Time as the delivery engine sees it: injected, so unit tests drive backoff, leases and
 * shutdown grace with a fake clock in milliseconds instead of waiting for real time.
 */
export interface Clock {
  /** Unix ms. */
  now(): number;
  /** Calls `callback` after `ms`; the timer never keeps the process alive. Returns the function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
