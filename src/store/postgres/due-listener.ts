import pg from 'pg';
import { quoteIdentifier } from './sql.js';

/**
 * Cross-process wake-ups: one dedicated connection LISTENs on the schema's channel and
 * hands every notification's destination names to the subscribers. Transactions that make
 * deliveries due (ingest, replay, redeliver) send `pg_notify(channel, '["dest",...]')`,
 * which PostgreSQL delivers only after they commit. Best effort by design: when the
 * connection drops it is re-opened with a growing pause, and the dispatcher's polling
 * covers whatever was announced meanwhile.
 */
export interface DueListener {
  subscribe(listener: (destinations: string[]) => void): () => void;
  close(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 5_000;

export function createDueListener(clientConfig: pg.ClientConfig, channel: string): DueListener {
  const listeners = new Set<(destinations: string[]) => void>();
  let client: pg.Client | null = null;
  let closed = false;
  let connecting = false;
  let failures = 0;
  let retry: NodeJS.Timeout | null = null;

  const dispatch = (payload: string | undefined) => {
    let destinations: unknown;
    try {
      destinations = JSON.parse(payload ?? '[]');
    } catch {
      return;
    }
    if (!Array.isArray(destinations)) return;
    const names = destinations.filter((name): name is string => typeof name === 'string');
    for (const listener of listeners) listener(names);
  };

  const scheduleReconnect = () => {
    if (closed || retry) return;
    const delay = Math.min(MAX_RECONNECT_DELAY_MS, 100 * 2 ** failures++);
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, delay);
    retry.unref();
  };

  const connect = async () => {
    if (closed || connecting || client) return;
    connecting = true;
    const candidate = new pg.Client(clientConfig);
    candidate.on('error', () => {
      // 'end' follows; reconnecting happens there.
    });
    candidate.on('end', () => {
      if (client === candidate) client = null;
      scheduleReconnect();
    });
    candidate.on('notification', (message) => {
      if (message.channel === channel) dispatch(message.payload);
    });
    try {
      await candidate.connect();
      await candidate.query(`LISTEN ${quoteIdentifier(channel)}`);
      if (closed) {
        await candidate.end().catch(() => undefined);
        return;
      }
      client = candidate;
      failures = 0;
    } catch {
      await candidate.end().catch(() => undefined);
      scheduleReconnect();
    } finally {
      connecting = false;
    }
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      void connect();
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
