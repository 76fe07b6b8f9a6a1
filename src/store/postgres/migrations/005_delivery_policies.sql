-- Runs with search_path set to the configured schema (see migrate.ts).
-- A delivery created because another delivery of the same event died: that delivery's
-- destination (sent as hookrelay-fallback-for). NULL for deliveries created at ingest.
ALTER TABLE deliveries ADD COLUMN fallback_for TEXT;
-- The callback's X-Request-Id (NULL: none), which cerebrium-signed deliveries carry on.
ALTER TABLE events ADD COLUMN request_id TEXT;
