-- Statistics (`GET …/stats`): check-ins counted per hour, and each device's progress through
-- each release it was offered. Both are kept exact by the writes they summarize, so a stats
-- answer reads a few index ranges instead of every check-in and report.

-- Check-ins per product, cohort and hour, added by the check-in writer in the transaction that
-- writes the check-ins; hours older than the writer keeps (48) are deleted by it.
CREATE TABLE check_in_hours (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- The device's cohort when its check-ins were written; '' for none.
    cohort_id   TEXT NOT NULL,
    -- Whole hours since the Unix epoch (UTC).
    hour        BIGINT NOT NULL,
    check_ins   BIGINT NOT NULL,
    PRIMARY KEY (product_id, cohort_id, hour)
);
CREATE INDEX check_in_hours_hour ON check_in_hours (hour);

-- One row per device and release it was offered (written by the check-in writer) or reported
-- on (written by the trigger below, whatever inserts the report): its furthest state, the
-- reason of that state, and how long from the first offer to success.
CREATE TABLE release_devices (
    release_id           TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    device_id            TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    -- The check-in that first offered it; NULL when the device reported before the offer was
    -- written (or before this table existed).
    offered_at           TEXT,
    -- NULL until the device reports.
    state                TEXT CHECK (state IN ('downloading', 'installing', 'succeeded', 'failed', 'rolled_back')),
    reason               TEXT,
    state_at             TEXT,
    -- Milliseconds from offered_at to the `succeeded` report.
    offer_to_success_ms  BIGINT,
    PRIMARY KEY (release_id, device_id)
);
CREATE INDEX release_devices_device ON release_devices (device_id);
CREATE INDEX release_devices_state ON release_devices (release_id, state, reason);
CREATE INDEX release_devices_success ON release_devices (release_id, offer_to_success_ms)
    WHERE offer_to_success_ms IS NOT NULL;

-- The reports made before this table, summarized the way the trigger does: the furthest state
-- (rank as in domain::device_updates::reports::rank; between equal ranks the later report).
INSERT INTO release_devices (release_id, device_id, state, reason, state_at)
SELECT release_id, device_id, state, reason, reported_at FROM (
    SELECT release_id, device_id, state, reason, reported_at,
        ROW_NUMBER() OVER (PARTITION BY release_id, device_id ORDER BY
            CASE state WHEN 'downloading' THEN 1 WHEN 'installing' THEN 2
                WHEN 'succeeded' THEN 4 ELSE 3 END DESC, reported_at DESC, id DESC) AS n
    FROM update_reports
) ranked WHERE n = 1;

-- A new report moves the device's state for the release forward (same rank: the later one).
-- Strictly forward, so inserting a report the row already reflects changes nothing: `fleet
-- server migrate` copies `release_devices` before `update_reports` (alphabetical among tables
-- with the same parents) and the reports it then inserts leave the copied rows as they are.
CREATE TRIGGER update_reports_progress AFTER INSERT ON update_reports
BEGIN
    INSERT INTO release_devices (release_id, device_id, state, reason, state_at)
    VALUES (NEW.release_id, NEW.device_id, NEW.state, NEW.reason, NEW.reported_at)
    ON CONFLICT (release_id, device_id) DO UPDATE SET
        state = excluded.state,
        reason = excluded.reason,
        state_at = excluded.state_at,
        offer_to_success_ms = CASE
            WHEN excluded.state = 'succeeded' AND release_devices.offered_at IS NOT NULL
            THEN max(0, CAST(round((julianday(excluded.state_at)
                - julianday(release_devices.offered_at)) * 86400000) AS INTEGER))
            END
    WHERE release_devices.state IS NULL
        OR CASE excluded.state WHEN 'downloading' THEN 1 WHEN 'installing' THEN 2
            WHEN 'succeeded' THEN 4 ELSE 3 END
        > CASE release_devices.state WHEN 'downloading' THEN 1 WHEN 'installing' THEN 2
            WHEN 'succeeded' THEN 4 ELSE 3 END
        OR (CASE excluded.state WHEN 'downloading' THEN 1 WHEN 'installing' THEN 2
            WHEN 'succeeded' THEN 4 ELSE 3 END
        = CASE release_devices.state WHEN 'downloading' THEN 1 WHEN 'installing' THEN 2
            WHEN 'succeeded' THEN 4 ELSE 3 END
            AND excluded.state_at > release_devices.state_at);
END;
