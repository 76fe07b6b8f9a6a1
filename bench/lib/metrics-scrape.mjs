/**
 * Reads one metric from the relay's admin listener (`GET /metrics`, Prometheus text format):
 * the sum of every sample of `name` (all label sets); null when the metric is not exposed.
 */
export async function scrapeMetric(adminPort, name) {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  let total = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] === name) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}
