import { expect } from 'vitest';
import { waitFor } from './wait.js';
import { postEvents, workspace } from './delivery.js';
import type { HarnessFixtures } from './fixtures.js';

async function writeTransactions(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const match = /^hookrelay_storage_write_transactions_total (\d+)$/m.exec(text);
  if (!match) throw new Error('hookrelay_storage_write_transactions_total is missing from /metrics');
  return Number(match[1]);
}

/**
 * A real `serve` with several destinations (one fifo) and nothing pending: over a dozen of the
 * dispatcher's due-time probes (its debug line) the store begins no write transaction
 * (hookrelay_storage_write_transactions_total stands still); one delivery moves the count,
 * and once it is done the count stands still again.
 */
export async function idleRelayScenario(
  { cleanup, startSink, startRelay }: Pick<HarnessFixtures, 'cleanup' | 'startSink' | 'startRelay'>,
  storage: Record<string, unknown>,
): Promise<void> {
  const sink = await startSink();
  const destinations = Array.from({ length: 8 }, (_, index) => ({
    name: `dest-${index}`,
    url: `${sink.url}/${index}`,
    ...(index === 0 ? { ordering: 'fifo' } : {}),
  }));
  const ws = workspace(cleanup, { destinations, admin: { host: '127.0.0.1', port: 0 }, log: { level: 'debug' }, ...storage });
  const relayProcess = await startRelay(ws.configPath);
  const probes = () => relayProcess.lines.filter((line) => line.includes('"msg":"due times read"')).length;

  // Start-up writes (leases recovered) are behind us once the dispatcher has read due times twice.
  await waitFor(() => probes() >= 2, { timeoutMs: 10_000, what: 'the first due-time probes' });
  const before = await writeTransactions(relayProcess.adminPort!);
  const probesBefore = probes();
  await waitFor(() => probes() >= probesBefore + 12, { timeoutMs: 20_000, what: 'twelve more due-time probes' });
  expect(await writeTransactions(relayProcess.adminPort!)).toBe(before);

  // The counter does count: one delivery moves it (the commit, the claims, the results).
  await postEvents(relayProcess.url, 1);
  await waitFor(() => sink.received.length === destinations.length, { timeoutMs: 10_000, what: 'the event at every destination' });
  const afterDelivery = await waitFor(async () => {
    const count = await writeTransactions(relayProcess.adminPort!);
    return count >= before + 3 ? count : null;
  }, { timeoutMs: 10_000, what: 'write transactions counted for the delivery' });
  // Once it is done, idle again: the count stands still over further probes.
  const settled = probes();
  await waitFor(() => probes() >= settled + 8, { timeoutMs: 20_000, what: 'more due-time probes' });
  const idleAgain = await writeTransactions(relayProcess.adminPort!);
  await waitFor(() => probes() >= settled + 20, { timeoutMs: 20_000, what: 'more due-time probes' });
  expect(await writeTransactions(relayProcess.adminPort!)).toBe(idleAgain);
  expect(idleAgain).toBeGreaterThanOrEqual(afterDelivery);
}
