import { cerebriumRequest } from './signed-request.js';
import { sleep } from './wait.js';
import { callOnce } from './http-call.js';

export interface IngestLoad {
  /** run_id -> event id, for every callback answered 2xx. */
  acked: Map<string, string>;
  /** Callbacks sent (each with a fresh run_id). */
  sent(): number;
  /** Answers that were neither 2xx nor a connection failure, by status. */
  otherStatuses: Map<number, number>;
  /** Connection failures (the relay was down or died mid-request). */
  connectionFailures(): number;
  stop(): Promise<void>;
}

/**
 * Continuous concurrent ingest: `workers` loops, each POSTing signed Cerebrium callbacks
 * with unique run_ids to wherever `target()` points (null while the relay is down).
 */
export function startIngestLoad({
  target,
  workers,
  secret,
  runPrefix,
  timeoutMs = 10_000,
}: {
  target: () => string | null;
  workers: number;
  secret: string;
  runPrefix: string;
  timeoutMs?: number;
}): IngestLoad {
  const acked = new Map<string, string>();
  const otherStatuses = new Map<number, number>();
  let sent = 0;
  let failures = 0;
  let running = true;
  let counter = 0;

  const worker = async () => {
    while (running) {
      const url = target();
      if (url === null) {
        await sleep(10);
        continue;
      }
      const runId = `${runPrefix}-${++counter}`;
      const body = JSON.stringify({ run_id: runId, status: 'success', result: { pages: counter % 1000 } });
      const signed = cerebriumRequest({ secret, body });
      sent++;
      const result = await callOnce(url, signed.headers, signed.body, timeoutMs);
      if (result.kind !== 'response') {
        failures++;
        await sleep(5);
        continue;
      }
      if (result.status >= 200 && result.status < 300) {
        acked.set(runId, (JSON.parse(result.body) as { id: string }).id);
      } else {
        otherStatuses.set(result.status, (otherStatuses.get(result.status) ?? 0) + 1);
      }
    }
  };
  const loops = Array.from({ length: workers }, () => worker());

  return {
    acked,
    sent: () => sent,
    otherStatuses,
    connectionFailures: () => failures,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
