import { afterEach, describe, expect, it } from 'vitest';
import { startSink } from '../helpers/sink.js';
import { waitFor } from '../helpers/wait.js';
import { cleanups, postEvents, relay, workspace } from './delivery-harness.js';

const registry = cleanups();
afterEach(() => registry.run());

async function writeTransactions(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const match = /^hookrelay_storage_write_transactions_total (\d+)$/m.exec(text);
  if (!match) throw new Error('hookrelay_storage_write_transactions_total is missing from /metrics');
  return Number(match[1]);
}

describe('delivery: an idle relay', () => {
  it('with several destinations and nothing pending begins no write transaction, poll after poll', async () => {
    const sink = await startSink();
    registry.add(() => sink.close());
    const destinations = Array.from({ length: 8 }, (_, index) => ({
      name: `dest-${index}`,
      url: `${sink.url}/${index}`,
      ...(index === 0 ? { ordering: 'fifo' } : {}),
    }));
    const ws = workspace(registry, { destinations, admin: { host: '127.0.0.1', port: 0 }, log: { level: 'debug' } });
    const relayProcess = await relay(registry, ws);
    const probes = () => relayProcess.lines.filter((line) => line.includes('"msg":"due times read"')).length;

    // Start-up writes (leases recovered) are behind us once the dispatcher has read due times twice.
    await waitFor(() => probes() >= 2, { timeoutMs: 10_000, what: 'the first due-time probes' });
    const before = await writeTransactions(relayProcess.adminPort!);
    const probesBefore = probes();
    await waitFor(() => probes() >= probesBefore + 12, { timeoutMs: 20_000, what: 'twelve more due-time probes' });
    expect(await writeTransactions(relayProcess.adminPort!)).toBe(before);

    // The counter does count: one delivery moves it (the commit, the claim, the result).
    await postEvents(relayProcess.url, 1);
    await waitFor(() => sink.received.length === destinations.length, { timeoutMs: 10_000, what: 'the event at every destination' });
    const afterDelivery = await waitFor(async () => {
      const count = await writeTransactions(relayProcess.adminPort!);
      return count >= before + 3 ? count : null;
    }, { timeoutMs: 10_000, what: 'write transactions counted for the delivery' });
    // And once it is done, idle again: the count stands still over further probes.
    const settled = probes();
    await waitFor(() => probes() >= settled + 8, { timeoutMs: 20_000, what: 'more due-time probes' });
    const idleAgain = await writeTransactions(relayProcess.adminPort!);
    await waitFor(() => probes() >= settled + 16, { timeoutMs: 20_000, what: 'more due-time probes' });
    expect(await writeTransactions(relayProcess.adminPort!)).toBe(idleAgain);
    expect(idleAgain).toBeGreaterThanOrEqual(afterDelivery);
  });
});
