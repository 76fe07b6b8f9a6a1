-- Quarantine: callbacks rejected for their signature or timestamp on a source with
-- `quarantine` set, kept byte-exact (headers as a JSON object, body) so that a release can
-- verify them again with the current secrets and ingest them. id is time-ordered (oldest
-- first = smallest); size counts the body and the headers' JSON.
CREATE TABLE quarantine (
  id          TEXT PRIMARY KEY,
  source      TEXT NOT NULL,
  reason      TEXT NOT NULL,
  headers     TEXT NOT NULL,
  body        BLOB NOT NULL,
  size        INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX quarantine_by_source ON quarantine (source, id);
