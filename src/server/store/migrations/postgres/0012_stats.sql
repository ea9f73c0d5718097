-- The PostgreSQL twin of ../sqlite/0011_stats.sql: check-ins counted per hour, and each
-- device's progress through each release it was offered, kept exact by the writes they
-- summarize.

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

CREATE TABLE release_devices (
    release_id           TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    device_id            TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    offered_at           TIMESTAMPTZ,
    state                TEXT CHECK (state IN ('downloading', 'installing', 'succeeded', 'failed', 'rolled_back')),
    reason               TEXT,
    state_at             TIMESTAMPTZ,
    offer_to_success_ms  BIGINT,
    PRIMARY KEY (release_id, device_id)
);
CREATE INDEX release_devices_device ON release_devices (device_id);
CREATE INDEX release_devices_state ON release_devices (release_id, state, reason);
CREATE INDEX release_devices_success ON release_devices (release_id, offer_to_success_ms)
    WHERE offer_to_success_ms IS NOT NULL;

INSERT INTO release_devices (release_id, device_id, state, reason, state_at)
SELECT release_id, device_id, state, reason, reported_at FROM (
    SELECT release_id, device_id, state, reason, reported_at,
        ROW_NUMBER() OVER (PARTITION BY release_id, device_id ORDER BY
            CASE state WHEN 'downloading' THEN 1 WHEN 'installing' THEN 2
                WHEN 'succeeded' THEN 4 ELSE 3 END DESC, reported_at DESC, id DESC) AS n
    FROM update_reports
) ranked WHERE n = 1;

CREATE FUNCTION fleet_update_reports_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO release_devices (release_id, device_id, state, reason, state_at)
    VALUES (NEW.release_id, NEW.device_id, NEW.state, NEW.reason, NEW.reported_at)
    ON CONFLICT (release_id, device_id) DO UPDATE SET
        state = excluded.state,
        reason = excluded.reason,
        state_at = excluded.state_at,
        offer_to_success_ms = CASE
            WHEN excluded.state = 'succeeded' AND release_devices.offered_at IS NOT NULL
            THEN GREATEST(0, round(EXTRACT(EPOCH FROM (excluded.state_at
                - release_devices.offered_at)) * 1000))::BIGINT
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
    RETURN NULL;
END
$$;

CREATE TRIGGER update_reports_progress AFTER INSERT ON update_reports
FOR EACH ROW EXECUTE FUNCTION fleet_update_reports_progress();
