import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from './relay.mjs';

const { migrate } = await import(join(ROOT, 'dist/store/sqlite/migrate.js'));

/** Ids in the relay's format (src/ids.ts): prefix, ms in base 36 (9 chars), 64 random bits. */
function idAt(prefix, ms) {
  return `${prefix}_${ms.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}

/**
 * Writes `count` events into a new database with the relay's own schema (its migrations),
 * one delivery per event to `destination`, in big transactions. Mix: 1% pending (a retry
 * scheduled an hour ahead, so the relay stays idle), 1% dead, the rest delivered with one
 * attempt logged each. Received times spread over the last 5 days (inside the default
 * 7-day retention, so the pruner leaves them alone).
 */
export function generateSizeDatabase(path, { count, destination, source = 'cerebrium', bodyBytes = 1024 }) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  migrate(db);
  const insertEvent = db.prepare('INSERT INTO events (id, source, dedupe_key, content_type, body, received_at) VALUES (?, ?, ?, ?, ?, ?)');
  const insertDelivery = db.prepare(
    `INSERT INTO deliveries (id, event_id, destination, source, status, attempts, budget_used, next_attempt_at, last_status, last_error, created_at, updated_at, delivered_at, dead_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO attempts (delivery_id, number, destination, started_at, duration_ms, status_code, error_code, error, response_snippet, outcome)
     VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
  );
  const now = Date.now();
  const span = 5 * 86_400_000;
  const filler = 'x'.repeat(Math.max(0, bodyBytes - 160));
  const batch = db.transaction((from, to) => {
    for (let index = from; index < to; index++) {
      const receivedAt = now - span + Math.floor((index / count) * span);
      const eventId = idAt('evt', receivedAt);
      const deliveryId = idAt('dlv', receivedAt);
      const runId = `size-${String(index).padStart(10, '0')}`;
      const body = Buffer.from(`{"run_id":"${runId}","status":"success","project_id":"p-bench","result":{"output":"${filler}"}}`);
      insertEvent.run(eventId, source, runId, 'application/json', body, receivedAt);
      const kind = index % 100 === 50 ? 'pending' : index % 100 === 99 ? 'dead' : 'delivered';
      if (kind === 'delivered') {
        insertDelivery.run(deliveryId, eventId, destination, source, 'delivered', 1, 1, receivedAt, 200, null, receivedAt, receivedAt + 5, receivedAt + 5, null);
        insertAttempt.run(deliveryId, 1, destination, receivedAt + 1, 4, 200, null, 'ok', 'delivered');
      } else if (kind === 'dead') {
        insertDelivery.run(deliveryId, eventId, destination, source, 'dead', 12, 12, receivedAt + 60_000, 500, 'HTTP 500', receivedAt, receivedAt + 60_000, null, receivedAt + 60_000);
        for (let number = 1; number <= 12; number++) insertAttempt.run(deliveryId, number, destination, receivedAt + number * 1000, 3, 500, 'HTTP 500', 'error', 'failed');
      } else {
        insertDelivery.run(deliveryId, eventId, destination, source, 'pending', 3, 3, now + 3_600_000, 503, 'HTTP 503', receivedAt, receivedAt + 4000, null, null);
        for (let number = 1; number <= 3; number++) insertAttempt.run(deliveryId, number, destination, receivedAt + number * 1000, 3, 503, 'HTTP 503', 'unavailable', 'failed');
      }
    }
  });
  const step = 50_000;
  for (let from = 0; from < count; from += step) batch(from, Math.min(count, from + step));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('optimize');
  db.close();
}
