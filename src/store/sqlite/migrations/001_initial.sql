-- Events: one row per accepted callback, body kept byte-exact. A rowid table: rows with a
-- body are large, and WITHOUT ROWID tables store large rows poorly (~5 KB per 1 KB body).
CREATE TABLE events (
  id           TEXT PRIMARY KEY,
  source       TEXT NOT NULL,
  dedupe_key   TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body         BLOB NOT NULL,
  received_at  INTEGER NOT NULL
);
-- Dedupe is enforced here, never by check-then-insert. Key first so a lookup by run_id alone uses it.
CREATE UNIQUE INDEX events_dedupe ON events (dedupe_key, source);
CREATE INDEX events_received_at ON events (received_at);

-- Deliveries: one row per (event, destination).
-- For status in_flight, next_attempt_at holds the lease expiry, so one index finds both
-- due pending rows and expired leases.
CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY,
  event_id        TEXT NOT NULL,
  destination     TEXT NOT NULL,
  source          TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  budget_used     INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner     TEXT,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  dead_at         INTEGER,
  UNIQUE (event_id, destination)
) WITHOUT ROWID;
CREATE INDEX deliveries_due ON deliveries (destination, next_attempt_at) WHERE status IN ('pending', 'in_flight');
CREATE INDEX deliveries_status ON deliveries (status, destination);
CREATE INDEX deliveries_dead ON deliveries (dead_at) WHERE status = 'dead';

-- The attempt log: why something was delivered or died.
CREATE TABLE attempts (
  delivery_id      TEXT NOT NULL,
  number           INTEGER NOT NULL,
  destination      TEXT NOT NULL,
  started_at       INTEGER NOT NULL,
  duration_ms      INTEGER NOT NULL,
  status_code      INTEGER,
  error_code       TEXT,
  error            TEXT,
  response_snippet TEXT,
  outcome          TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
  PRIMARY KEY (delivery_id, number)
);
CREATE INDEX attempts_started_at ON attempts (started_at);

-- Written by the readiness probe to prove the database can take a commit.
CREATE TABLE readiness_probe (
  at  INTEGER NOT NULL,
  pad BLOB
);
