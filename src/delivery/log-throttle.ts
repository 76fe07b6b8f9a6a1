/**
 * Lets a log line that repeats (storage busy, retried every few hundred ms) through at most
 * once per `intervalMs`: the first occurrence at once, then the next one after the interval,
 * with how many occurrences it stands for (itself and those held back since the last line).
 */
export function createLogThrottle(intervalMs: number, now: () => number = Date.now): (emit: (occurrences: number) => void) => void {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (emit) => {
    unlogged++;
    const at = now();
    if (at - loggedAt < intervalMs) return;
    emit(unlogged);
    loggedAt = at;
    unlogged = 0;
  };
}
