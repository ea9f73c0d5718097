-- The PostgreSQL twin of ../sqlite/0014_bulk_events.sql: the same table and meaning.
-- A bulk operation (move, cohort assign/unassign, import) is one audit event per product it
-- touched, not one per device; which devices it changed, with each device's facts from before
-- the change, are the rows here. A device's history (`event list --resource DEVICE`) reads
-- both: its own events and the bulk events that name it here. No foreign keys, as for events:
-- the audit trail outlives what it describes.
CREATE TABLE event_devices (
    device_id        TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    identifier       TEXT NOT NULL,
    -- Moves and cohort changes: where the device was before.
    from_product_id  TEXT,
    from_cohort_id   TEXT,
    -- Imports: the row's line in the file.
    line             BIGINT,
    PRIMARY KEY (device_id, event_id)
);
