-- A delivery created because another delivery of the same event died: that delivery's
-- destination (sent as hookrelay-fallback-for). NULL for deliveries created at ingest.
ALTER TABLE deliveries ADD COLUMN fallback_for TEXT;
-- The callback's X-Request-Id (NULL: none), which cerebrium-signed deliveries carry on.
ALTER TABLE events ADD COLUMN request_id TEXT;
-- ordering: fifo. A delivery's place in its destination's queue: when it was created, or
-- replayed / redelivered (NULL: created_at), so a replay joins the back.
ALTER TABLE deliveries ADD COLUMN queued_at INTEGER;
CREATE INDEX deliveries_fifo ON deliveries (destination, (coalesce(queued_at, created_at)), id) WHERE status IN ('pending', 'in_flight');
