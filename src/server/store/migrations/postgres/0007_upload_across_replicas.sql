-- The PostgreSQL twin of ../sqlite/0007_upload_across_replicas.sql: the same tables and meaning, PostgreSQL types.
-- Uploads whose parts arrive at different replicas and whose completion may hit a third.
--
-- How a binary's content is laid out in the blob store, chosen when its upload is declared:
-- 'parts' (one object per part under blob_prefix, read in order) or 'multipart' (parts go
-- straight into the store's multipart upload and are assembled into <blob_prefix>/content by
-- complete). Rows from before this migration are 'parts'.
ALTER TABLE binaries ADD COLUMN blob_layout TEXT NOT NULL DEFAULT 'parts'
    CHECK (blob_layout IN ('parts', 'multipart'));
-- The store's multipart upload of a 'multipart' upload: set once by the first part to arrive
-- (on whichever replica; the conditional UPDATE decides), cleared when the upload restarts.
ALTER TABLE binaries ADD COLUMN multipart_upload_id TEXT;
-- The ETag the store gave a part of a multipart upload; complete hands them back in order.
ALTER TABLE binary_parts ADD COLUMN etag TEXT;

-- The background whole-file digest of a 'parts' upload is one replica's job at a time: the
-- owner hashes the stored parts in order while it renews heartbeat_at; another replica takes
-- the claim over only once the heartbeat is stale (the owner died). Any replica completes:
-- one without the owner's running state reads the parts again.
CREATE TABLE binary_digest_claims (
    binary_id     TEXT PRIMARY KEY REFERENCES binaries (id) ON DELETE CASCADE,
    blob_prefix   TEXT NOT NULL,
    owner         TEXT NOT NULL,
    heartbeat_at  TIMESTAMPTZ NOT NULL
);
