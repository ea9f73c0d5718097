-- When an unfinished upload last saw activity (declared, started over, or a part arrived), so
-- the service can abandon uploads nobody finishes. Set on every write of an upload; ready
-- binaries keep the time they last changed.

ALTER TABLE binaries ADD COLUMN active_at TEXT;

UPDATE binaries SET active_at = COALESCE(
    (SELECT MAX(p.received_at) FROM binary_parts p WHERE p.binary_id = binaries.id),
    created_at
);

CREATE INDEX binaries_stale ON binaries (state, active_at);
