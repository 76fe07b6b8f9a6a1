-- Runs: the Cerebrium jobs whose callbacks the relay waits for (config `runs`).
-- id is time-ordered (lists newest first, page cursor); run_id is Cerebrium's.
-- due_at: for a submitted run, when it falls overdue; for an overdue run, its next status
-- check (or the lease of a check in progress), NULL when none; NULL in the other states.
CREATE TABLE runs (
  id           TEXT PRIMARY KEY,
  run_id       TEXT NOT NULL UNIQUE,
  project      TEXT,
  app          TEXT,
  status       TEXT NOT NULL CHECK (status IN ('submitted', 'completed', 'overdue', 'lost')),
  metadata     TEXT,
  submitted_at INTEGER NOT NULL,
  completed_at INTEGER,
  event_id     TEXT,
  overdue_at   INTEGER,
  lost_at      INTEGER,
  due_at       INTEGER
);
-- The checker reads only due rows: one partial index per state it sweeps, so a million
-- completed runs cost it nothing.
CREATE INDEX runs_submitted_due ON runs (due_at) WHERE status = 'submitted';
CREATE INDEX runs_overdue_due ON runs (due_at) WHERE status = 'overdue';
CREATE INDEX runs_by_status ON runs (status, id);
-- Claims join a delivery's event to its run (the metadata echo); retention deletes by event.
CREATE INDEX runs_by_event ON runs (event_id) WHERE event_id IS NOT NULL;
