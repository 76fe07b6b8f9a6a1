import DatabaseConstructor, { type Database } from 'better-sqlite3';

/**
 * Read-side checks of a relay's SQLite file, opened from the test process (a second
 * connection, as an operator's tool would). Only used while no relay writes, or for reads.
 */
export interface DatabaseReport {
  integrity: string;
  events: number;
  byStatus: Record<string, number>;
  /** Events whose delivery count differs from the expected fan-out. */
  eventsWithWrongFanOut: number;
}

export function openReadOnly(path: string): Database {
  return new DatabaseConstructor(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
}

/** `PRAGMA integrity_check`, counts per delivery status, and fan-out completeness. */
export function inspectDatabase(path: string, expectedFanOut: number): DatabaseReport {
  const db = openReadOnly(path);
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer';
    const events = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
    const byStatus: Record<string, number> = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
    for (const row of db.prepare('SELECT status, count(*) AS n FROM deliveries GROUP BY status').all() as { status: string; n: number }[]) {
      byStatus[row.status] = row.n;
    }
    const eventsWithWrongFanOut = db
      .prepare(
        `SELECT count(*) FROM events e
          WHERE (SELECT count(*) FROM deliveries d WHERE d.event_id = e.id) != ?`,
      )
      .pluck()
      .get(expectedFanOut) as number;
    return { integrity, events, byStatus, eventsWithWrongFanOut };
  } finally {
    db.close();
  }
}

/** The stored event of a dedupe key, or null. */
export function storedEvent(path: string, dedupeKey: string): { id: string; body: Buffer } | null {
  const db = openReadOnly(path);
  try {
    return (db.prepare('SELECT id, body FROM events WHERE dedupe_key = ?').get(dedupeKey) as { id: string; body: Buffer } | undefined) ?? null;
  } finally {
    db.close();
  }
}

/** Status of every delivery of one destination, keyed by event dedupe key. */
export function deliveryStatuses(path: string, destination: string): Map<string, { status: string; attempts: number; lastStatus: number | null }> {
  const db = openReadOnly(path);
  try {
    const rows = db
      .prepare(
        `SELECT e.dedupe_key AS key, d.status, d.attempts, d.last_status AS lastStatus
           FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.destination = ?`,
      )
      .all(destination) as { key: string; status: string; attempts: number; lastStatus: number | null }[];
    return new Map(rows.map((row) => [row.key, { status: row.status, attempts: row.attempts, lastStatus: row.lastStatus }]));
  } finally {
    db.close();
  }
}
