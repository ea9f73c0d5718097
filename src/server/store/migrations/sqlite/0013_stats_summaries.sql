-- Exact summaries for `GET …/stats` at a million devices: counts per product and cohort kept
-- by triggers on the rows they count, so every write path (API, bulk, import, check-in writer,
-- cascades, plain SQL) keeps them exact, and a stats answer reads a few hundred rows instead of
-- every device. Each summary counts one table's rows:
--   device_counts   <- devices         (devices, quarantined, needing provisioning)
--   seen_hours      <- device_status   (devices by the hour of their last check-in)
--   version_counts  <- device_running  (devices per artifact and version)
--   release_states  <- release_devices (devices per release, state and failure reason)
-- `device_status` and `device_running` carry their device's product and cohort (kept by a
-- trigger on `devices`), so their summaries never look a device up, also while a cascade
-- deletes it. Cohorts are keyed '' for "no cohort", as in check_in_hours. Times are UTC
-- RFC 3339 text, as everywhere in this database: the hour of one is its first 13 characters.
-- Rows whose count fell to 0 stay until the check-in writer prunes them; readers skip them.

ALTER TABLE device_status ADD COLUMN product_id TEXT NOT NULL DEFAULT '';
ALTER TABLE device_status ADD COLUMN cohort_id TEXT NOT NULL DEFAULT '';
UPDATE device_status SET
    product_id = (SELECT d.product_id FROM devices d WHERE d.id = device_status.device_id),
    cohort_id = (SELECT COALESCE(d.cohort_id, '') FROM devices d
        WHERE d.id = device_status.device_id);
-- Range counts of a product's (or cohort's) devices by last check-in, for the part of an hour
-- a time window cuts. It replaces the index on last_seen_at alone (nothing else read it), so a
-- check-in still updates one index on the time.
DROP INDEX device_status_last_seen;
CREATE INDEX device_status_seen ON device_status (product_id, cohort_id, last_seen_at);

ALTER TABLE device_running ADD COLUMN product_id TEXT NOT NULL DEFAULT '';
ALTER TABLE device_running ADD COLUMN cohort_id TEXT NOT NULL DEFAULT '';
UPDATE device_running SET
    product_id = (SELECT d.product_id FROM devices d WHERE d.id = device_running.device_id),
    cohort_id = (SELECT COALESCE(d.cohort_id, '') FROM devices d
        WHERE d.id = device_running.device_id);

CREATE TABLE device_counts (
    product_id          TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id           TEXT NOT NULL,
    devices             BIGINT NOT NULL,
    quarantined         BIGINT NOT NULL,
    needs_provisioning  BIGINT NOT NULL,
    PRIMARY KEY (product_id, cohort_id)
);
INSERT INTO device_counts (product_id, cohort_id, devices, quarantined, needs_provisioning)
SELECT product_id, COALESCE(cohort_id, ''), COUNT(*),
    SUM(CASE WHEN quarantined THEN 1 ELSE 0 END),
    SUM(CASE WHEN needs_provisioning THEN 1 ELSE 0 END)
FROM devices GROUP BY product_id, COALESCE(cohort_id, '');

CREATE TABLE seen_hours (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id   TEXT NOT NULL,
    -- Whole hours since the Unix epoch (UTC) of the devices' last check-in.
    hour        BIGINT NOT NULL,
    devices     BIGINT NOT NULL,
    PRIMARY KEY (product_id, cohort_id, hour)
);
CREATE INDEX seen_hours_empty ON seen_hours (hour) WHERE devices = 0;
INSERT INTO seen_hours (product_id, cohort_id, hour, devices)
SELECT product_id, cohort_id,
    CAST(strftime('%s', substr(last_seen_at, 1, 13) || ':00:00') AS INTEGER) / 3600, COUNT(*)
FROM device_status GROUP BY 1, 2, 3;

CREATE TABLE version_counts (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id   TEXT NOT NULL,
    artifact    TEXT NOT NULL,
    version     TEXT NOT NULL,
    devices     BIGINT NOT NULL,
    PRIMARY KEY (product_id, cohort_id, artifact, version)
);
INSERT INTO version_counts (product_id, cohort_id, artifact, version, devices)
SELECT product_id, cohort_id, artifact, version, COUNT(*)
FROM device_running GROUP BY product_id, cohort_id, artifact, version;

CREATE TABLE release_states (
    release_id    TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    -- '' for offered without a report yet.
    state         TEXT NOT NULL,
    -- The reason, for `failed` and `rolled_back` only ('' otherwise, and when none was given:
    -- then reason_given is FALSE).
    reason_given  BOOLEAN NOT NULL,
    reason        TEXT NOT NULL,
    devices       BIGINT NOT NULL,
    PRIMARY KEY (release_id, state, reason_given, reason)
);
INSERT INTO release_states (release_id, state, reason_given, reason, devices)
SELECT release_id, COALESCE(state, ''),
    CASE WHEN state IN ('failed', 'rolled_back') AND reason IS NOT NULL THEN TRUE ELSE FALSE END,
    CASE WHEN state IN ('failed', 'rolled_back') THEN COALESCE(reason, '') ELSE '' END, COUNT(*)
FROM release_devices GROUP BY 1, 2, 3, 4;

-- devices -> device_counts, and the device's product and cohort onto its status and running
-- rows (whose own triggers then move their counts).
CREATE TRIGGER devices_counted AFTER INSERT ON devices
BEGIN
    INSERT INTO device_counts (product_id, cohort_id, devices, quarantined, needs_provisioning)
    VALUES (NEW.product_id, COALESCE(NEW.cohort_id, ''), 1,
        CASE WHEN NEW.quarantined THEN 1 ELSE 0 END,
        CASE WHEN NEW.needs_provisioning THEN 1 ELSE 0 END)
    ON CONFLICT (product_id, cohort_id) DO UPDATE SET
        devices = device_counts.devices + 1,
        quarantined = device_counts.quarantined + excluded.quarantined,
        needs_provisioning = device_counts.needs_provisioning + excluded.needs_provisioning;
END;

CREATE TRIGGER devices_recounted
AFTER UPDATE OF product_id, cohort_id, quarantined, needs_provisioning ON devices
WHEN OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id
    OR OLD.quarantined IS NOT NEW.quarantined
    OR OLD.needs_provisioning IS NOT NEW.needs_provisioning
BEGIN
    UPDATE device_counts SET
        devices = devices - 1,
        quarantined = quarantined - CASE WHEN OLD.quarantined THEN 1 ELSE 0 END,
        needs_provisioning = needs_provisioning
            - CASE WHEN OLD.needs_provisioning THEN 1 ELSE 0 END
    WHERE product_id = OLD.product_id AND cohort_id = COALESCE(OLD.cohort_id, '');
    INSERT INTO device_counts (product_id, cohort_id, devices, quarantined, needs_provisioning)
    VALUES (NEW.product_id, COALESCE(NEW.cohort_id, ''), 1,
        CASE WHEN NEW.quarantined THEN 1 ELSE 0 END,
        CASE WHEN NEW.needs_provisioning THEN 1 ELSE 0 END)
    ON CONFLICT (product_id, cohort_id) DO UPDATE SET
        devices = device_counts.devices + 1,
        quarantined = device_counts.quarantined + excluded.quarantined,
        needs_provisioning = device_counts.needs_provisioning + excluded.needs_provisioning;
END;

CREATE TRIGGER devices_moved AFTER UPDATE OF product_id, cohort_id ON devices
WHEN OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id
BEGIN
    UPDATE device_status SET product_id = NEW.product_id, cohort_id = COALESCE(NEW.cohort_id, '')
    WHERE device_id = NEW.id;
    UPDATE device_running SET product_id = NEW.product_id, cohort_id = COALESCE(NEW.cohort_id, '')
    WHERE device_id = NEW.id;
END;

CREATE TRIGGER devices_uncounted AFTER DELETE ON devices
BEGIN
    UPDATE device_counts SET
        devices = devices - 1,
        quarantined = quarantined - CASE WHEN OLD.quarantined THEN 1 ELSE 0 END,
        needs_provisioning = needs_provisioning
            - CASE WHEN OLD.needs_provisioning THEN 1 ELSE 0 END
    WHERE product_id = OLD.product_id AND cohort_id = COALESCE(OLD.cohort_id, '');
END;

-- device_status -> seen_hours. A check-in that stays in its device's hour changes nothing here.
CREATE TRIGGER device_status_counted AFTER INSERT ON device_status
BEGIN
    INSERT INTO seen_hours (product_id, cohort_id, hour, devices)
    VALUES (NEW.product_id, NEW.cohort_id,
        CAST(strftime('%s', substr(NEW.last_seen_at, 1, 13) || ':00:00') AS INTEGER) / 3600, 1)
    ON CONFLICT (product_id, cohort_id, hour) DO UPDATE SET devices = seen_hours.devices + 1;
END;

CREATE TRIGGER device_status_recounted
AFTER UPDATE OF last_seen_at, product_id, cohort_id ON device_status
WHEN substr(OLD.last_seen_at, 1, 13) IS NOT substr(NEW.last_seen_at, 1, 13)
    OR OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id
BEGIN
    UPDATE seen_hours SET devices = devices - 1
    WHERE product_id = OLD.product_id AND cohort_id = OLD.cohort_id
        AND hour = CAST(strftime('%s', substr(OLD.last_seen_at, 1, 13) || ':00:00') AS INTEGER)
            / 3600;
    INSERT INTO seen_hours (product_id, cohort_id, hour, devices)
    VALUES (NEW.product_id, NEW.cohort_id,
        CAST(strftime('%s', substr(NEW.last_seen_at, 1, 13) || ':00:00') AS INTEGER) / 3600, 1)
    ON CONFLICT (product_id, cohort_id, hour) DO UPDATE SET devices = seen_hours.devices + 1;
END;

CREATE TRIGGER device_status_uncounted AFTER DELETE ON device_status
BEGIN
    UPDATE seen_hours SET devices = devices - 1
    WHERE product_id = OLD.product_id AND cohort_id = OLD.cohort_id
        AND hour = CAST(strftime('%s', substr(OLD.last_seen_at, 1, 13) || ':00:00') AS INTEGER)
            / 3600;
END;

-- device_running -> version_counts.
CREATE TRIGGER device_running_counted AFTER INSERT ON device_running
BEGIN
    INSERT INTO version_counts (product_id, cohort_id, artifact, version, devices)
    VALUES (NEW.product_id, NEW.cohort_id, NEW.artifact, NEW.version, 1)
    ON CONFLICT (product_id, cohort_id, artifact, version) DO UPDATE SET
        devices = version_counts.devices + 1;
END;

CREATE TRIGGER device_running_recounted
AFTER UPDATE OF product_id, cohort_id, artifact, version ON device_running
WHEN OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id
    OR OLD.artifact IS NOT NEW.artifact OR OLD.version IS NOT NEW.version
BEGIN
    UPDATE version_counts SET devices = devices - 1
    WHERE product_id = OLD.product_id AND cohort_id = OLD.cohort_id
        AND artifact = OLD.artifact AND version = OLD.version;
    INSERT INTO version_counts (product_id, cohort_id, artifact, version, devices)
    VALUES (NEW.product_id, NEW.cohort_id, NEW.artifact, NEW.version, 1)
    ON CONFLICT (product_id, cohort_id, artifact, version) DO UPDATE SET
        devices = version_counts.devices + 1;
END;

CREATE TRIGGER device_running_uncounted AFTER DELETE ON device_running
BEGIN
    UPDATE version_counts SET devices = devices - 1
    WHERE product_id = OLD.product_id AND cohort_id = OLD.cohort_id
        AND artifact = OLD.artifact AND version = OLD.version;
END;

-- release_devices -> release_states.
CREATE TRIGGER release_devices_counted AFTER INSERT ON release_devices
BEGIN
    INSERT INTO release_states (release_id, state, reason_given, reason, devices)
    VALUES (NEW.release_id, COALESCE(NEW.state, ''),
        CASE WHEN NEW.state IN ('failed', 'rolled_back') AND NEW.reason IS NOT NULL THEN TRUE ELSE FALSE END,
        CASE WHEN NEW.state IN ('failed', 'rolled_back') THEN COALESCE(NEW.reason, '') ELSE ''
        END, 1)
    ON CONFLICT (release_id, state, reason_given, reason) DO UPDATE SET
        devices = release_states.devices + 1;
END;

CREATE TRIGGER release_devices_recounted AFTER UPDATE OF release_id, state, reason ON release_devices
WHEN OLD.release_id IS NOT NEW.release_id OR OLD.state IS NOT NEW.state
    OR OLD.reason IS NOT NEW.reason
BEGIN
    UPDATE release_states SET devices = devices - 1
    WHERE release_id = OLD.release_id AND state = COALESCE(OLD.state, '')
        AND reason_given = CASE WHEN OLD.state IN ('failed', 'rolled_back') AND OLD.reason IS NOT NULL THEN TRUE ELSE FALSE END
        AND reason = CASE WHEN OLD.state IN ('failed', 'rolled_back')
            THEN COALESCE(OLD.reason, '') ELSE '' END;
    INSERT INTO release_states (release_id, state, reason_given, reason, devices)
    VALUES (NEW.release_id, COALESCE(NEW.state, ''),
        CASE WHEN NEW.state IN ('failed', 'rolled_back') AND NEW.reason IS NOT NULL THEN TRUE ELSE FALSE END,
        CASE WHEN NEW.state IN ('failed', 'rolled_back') THEN COALESCE(NEW.reason, '') ELSE ''
        END, 1)
    ON CONFLICT (release_id, state, reason_given, reason) DO UPDATE SET
        devices = release_states.devices + 1;
END;

CREATE TRIGGER release_devices_uncounted AFTER DELETE ON release_devices
BEGIN
    UPDATE release_states SET devices = devices - 1
    WHERE release_id = OLD.release_id AND state = COALESCE(OLD.state, '')
        AND reason_given = CASE WHEN OLD.state IN ('failed', 'rolled_back') AND OLD.reason IS NOT NULL THEN TRUE ELSE FALSE END
        AND reason = CASE WHEN OLD.state IN ('failed', 'rolled_back')
            THEN COALESCE(OLD.reason, '') ELSE '' END;
END;
