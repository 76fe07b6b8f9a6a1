-- Dead letters are listed newest first (by id) with optional source/destination filters.
-- Partial indexes: only dead rows are indexed, so ingest (which writes pending rows) pays nothing.
CREATE INDEX deliveries_dead_by_id ON deliveries (id) WHERE status = 'dead';
CREATE INDEX deliveries_dead_by_source ON deliveries (source, id) WHERE status = 'dead';
CREATE INDEX deliveries_dead_by_destination ON deliveries (destination, id) WHERE status = 'dead';
