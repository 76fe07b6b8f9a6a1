-- The Content-Encoding a callback arrived with (NULL: none). The body stays encoded, byte-exact;
-- every delivery carries this header so the consumer can decode it.
ALTER TABLE events ADD COLUMN content_encoding TEXT;
