/**
 * Polls the sink (bench/targets/sink.mjs) until it holds at least `atLeast` distinct deliveries
 * and the count has stopped moving for two polls (the requests in flight when a generator
 * stopped were committed too, and arrive a moment later). Bounded by `timeoutMs`.
 * Resolves with the sink's count and whether `atLeast` was reached.
 */
export async function waitForSink(sink, atLeast, timeoutMs, pollMs = 100) {
  const deadline = performance.now() + timeoutMs;
  let count = await sink.ask({ type: 'count' });
  let still = 0;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const next = await sink.ask({ type: 'count' });
    still = next.unique === count.unique ? still + 1 : 0;
    count = next;
    if (count.unique >= atLeast && still >= 2) break;
  }
  return { ...count, reached: count.unique >= atLeast };
}
