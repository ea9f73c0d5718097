-- The PostgreSQL twin of ../sqlite/0013_stats_summaries.sql: exact summaries for `GET …/stats`
-- kept by triggers on the rows they count (see there for what each counts). Here the triggers
-- run once per statement over its transition tables, never once per row: a bulk statement or
-- a check-in batch moves each counter once, and a transaction never updates one counter row
-- thousands of times (each update of a row PostgreSQL keeps as a new version, which the next
-- update of it in the same transaction has to walk past).

ALTER TABLE device_status ADD COLUMN product_id TEXT NOT NULL DEFAULT '';
ALTER TABLE device_status ADD COLUMN cohort_id TEXT NOT NULL DEFAULT '';
UPDATE device_status s SET product_id = d.product_id, cohort_id = COALESCE(d.cohort_id, '')
FROM devices d WHERE d.id = s.device_id;
ALTER TABLE device_status ALTER COLUMN product_id DROP DEFAULT;
ALTER TABLE device_status ALTER COLUMN cohort_id DROP DEFAULT;
DROP INDEX device_status_last_seen;
CREATE INDEX device_status_seen ON device_status (product_id, cohort_id, last_seen_at);

ALTER TABLE device_running ADD COLUMN product_id TEXT NOT NULL DEFAULT '';
ALTER TABLE device_running ADD COLUMN cohort_id TEXT NOT NULL DEFAULT '';
UPDATE device_running r SET product_id = d.product_id, cohort_id = COALESCE(d.cohort_id, '')
FROM devices d WHERE d.id = r.device_id;
ALTER TABLE device_running ALTER COLUMN product_id DROP DEFAULT;
ALTER TABLE device_running ALTER COLUMN cohort_id DROP DEFAULT;

CREATE TABLE device_counts (
    product_id          TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id           TEXT NOT NULL,
    devices             BIGINT NOT NULL,
    quarantined         BIGINT NOT NULL,
    needs_provisioning  BIGINT NOT NULL,
    PRIMARY KEY (product_id, cohort_id)
);
INSERT INTO device_counts (product_id, cohort_id, devices, quarantined, needs_provisioning)
SELECT product_id, COALESCE(cohort_id, ''), COUNT(*), COUNT(*) FILTER (WHERE quarantined),
    COUNT(*) FILTER (WHERE needs_provisioning)
FROM devices GROUP BY product_id, COALESCE(cohort_id, '');

CREATE TABLE seen_hours (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id   TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    devices     BIGINT NOT NULL,
    PRIMARY KEY (product_id, cohort_id, hour)
);
CREATE INDEX seen_hours_empty ON seen_hours (hour) WHERE devices = 0;
INSERT INTO seen_hours (product_id, cohort_id, hour, devices)
SELECT product_id, cohort_id, floor(extract(epoch FROM last_seen_at) / 3600)::BIGINT, COUNT(*)
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
    state         TEXT NOT NULL,
    reason_given  BOOLEAN NOT NULL,
    reason        TEXT NOT NULL,
    devices       BIGINT NOT NULL,
    PRIMARY KEY (release_id, state, reason_given, reason)
);
INSERT INTO release_states (release_id, state, reason_given, reason, devices)
SELECT release_id, COALESCE(state, ''),
    COALESCE(state IN ('failed', 'rolled_back') AND reason IS NOT NULL, FALSE),
    CASE WHEN state IN ('failed', 'rolled_back') THEN COALESCE(reason, '') ELSE '' END, COUNT(*)
FROM release_devices GROUP BY 1, 2, 3, 4;

-- devices -> device_counts; a move or cohort change carries the device's product and cohort
-- onto its status and running rows, whose own triggers move their counts.
CREATE FUNCTION fleet_count_devices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO device_counts AS c (product_id, cohort_id, devices, quarantined,
            needs_provisioning)
        SELECT product_id, COALESCE(cohort_id, ''), COUNT(*), COUNT(*) FILTER (WHERE quarantined),
            COUNT(*) FILTER (WHERE needs_provisioning)
        FROM new_devices GROUP BY 1, 2
        ON CONFLICT (product_id, cohort_id) DO UPDATE SET devices = c.devices + excluded.devices,
            quarantined = c.quarantined + excluded.quarantined,
            needs_provisioning = c.needs_provisioning + excluded.needs_provisioning;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE device_counts c SET devices = c.devices - o.devices,
            quarantined = c.quarantined - o.quarantined,
            needs_provisioning = c.needs_provisioning - o.needs_provisioning
        FROM (SELECT product_id, COALESCE(cohort_id, '') AS cohort_id, COUNT(*) AS devices,
                COUNT(*) FILTER (WHERE quarantined) AS quarantined,
                COUNT(*) FILTER (WHERE needs_provisioning) AS needs_provisioning
            FROM old_devices GROUP BY 1, 2) o
        WHERE c.product_id = o.product_id AND c.cohort_id = o.cohort_id;
    ELSE
        INSERT INTO device_counts AS c (product_id, cohort_id, devices, quarantined,
            needs_provisioning)
        SELECT product_id, cohort_id, SUM(devices), SUM(quarantined), SUM(needs_provisioning)
        FROM (
            SELECT n.product_id, COALESCE(n.cohort_id, '') AS cohort_id, 1 AS devices,
                CASE WHEN n.quarantined THEN 1 ELSE 0 END AS quarantined,
                CASE WHEN n.needs_provisioning THEN 1 ELSE 0 END AS needs_provisioning
            FROM old_devices o JOIN new_devices n ON n.id = o.id
            WHERE (o.product_id, o.cohort_id, o.quarantined, o.needs_provisioning)
                IS DISTINCT FROM (n.product_id, n.cohort_id, n.quarantined, n.needs_provisioning)
            UNION ALL
            SELECT o.product_id, COALESCE(o.cohort_id, ''), -1,
                CASE WHEN o.quarantined THEN -1 ELSE 0 END,
                CASE WHEN o.needs_provisioning THEN -1 ELSE 0 END
            FROM old_devices o JOIN new_devices n ON n.id = o.id
            WHERE (o.product_id, o.cohort_id, o.quarantined, o.needs_provisioning)
                IS DISTINCT FROM (n.product_id, n.cohort_id, n.quarantined, n.needs_provisioning)
        ) delta GROUP BY 1, 2
        HAVING SUM(devices) <> 0 OR SUM(quarantined) <> 0 OR SUM(needs_provisioning) <> 0
        ON CONFLICT (product_id, cohort_id) DO UPDATE SET devices = c.devices + excluded.devices,
            quarantined = c.quarantined + excluded.quarantined,
            needs_provisioning = c.needs_provisioning + excluded.needs_provisioning;
        UPDATE device_status s SET product_id = n.product_id,
            cohort_id = COALESCE(n.cohort_id, '')
        FROM old_devices o JOIN new_devices n ON n.id = o.id
        WHERE s.device_id = n.id
            AND (o.product_id, o.cohort_id) IS DISTINCT FROM (n.product_id, n.cohort_id);
        UPDATE device_running r SET product_id = n.product_id,
            cohort_id = COALESCE(n.cohort_id, '')
        FROM old_devices o JOIN new_devices n ON n.id = o.id
        WHERE r.device_id = n.id
            AND (o.product_id, o.cohort_id) IS DISTINCT FROM (n.product_id, n.cohort_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER devices_counted AFTER INSERT ON devices REFERENCING NEW TABLE AS new_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_devices();
CREATE TRIGGER devices_recounted AFTER UPDATE ON devices
REFERENCING OLD TABLE AS old_devices NEW TABLE AS new_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_devices();
CREATE TRIGGER devices_uncounted AFTER DELETE ON devices REFERENCING OLD TABLE AS old_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_devices();

-- device_status -> seen_hours. A check-in batch whose devices stay in their hours changes no
-- counter.
CREATE FUNCTION fleet_count_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO seen_hours AS h (product_id, cohort_id, hour, devices)
        SELECT product_id, cohort_id, floor(extract(epoch FROM last_seen_at) / 3600)::BIGINT,
            COUNT(*)
        FROM new_status GROUP BY 1, 2, 3
        ON CONFLICT (product_id, cohort_id, hour) DO UPDATE SET devices = h.devices + excluded.devices;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE seen_hours h SET devices = h.devices - o.devices
        FROM (SELECT product_id, cohort_id,
                floor(extract(epoch FROM last_seen_at) / 3600)::BIGINT AS hour, COUNT(*) AS devices
            FROM old_status GROUP BY 1, 2, 3) o
        WHERE h.product_id = o.product_id AND h.cohort_id = o.cohort_id AND h.hour = o.hour;
    ELSE
        INSERT INTO seen_hours AS h (product_id, cohort_id, hour, devices)
        SELECT product_id, cohort_id, hour, SUM(devices) FROM (
            SELECT product_id, cohort_id,
                floor(extract(epoch FROM last_seen_at) / 3600)::BIGINT AS hour, 1 AS devices
            FROM new_status
            UNION ALL
            SELECT product_id, cohort_id, floor(extract(epoch FROM last_seen_at) / 3600)::BIGINT, -1
            FROM old_status
        ) delta GROUP BY 1, 2, 3 HAVING SUM(devices) <> 0
        ON CONFLICT (product_id, cohort_id, hour) DO UPDATE SET devices = h.devices + excluded.devices;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER device_status_counted AFTER INSERT ON device_status
REFERENCING NEW TABLE AS new_status FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_seen();
CREATE TRIGGER device_status_recounted AFTER UPDATE ON device_status
REFERENCING OLD TABLE AS old_status NEW TABLE AS new_status
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_seen();
CREATE TRIGGER device_status_uncounted AFTER DELETE ON device_status
REFERENCING OLD TABLE AS old_status FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_seen();

-- device_running -> version_counts.
CREATE FUNCTION fleet_count_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO version_counts AS v (product_id, cohort_id, artifact, version, devices)
        SELECT product_id, cohort_id, artifact, version, COUNT(*)
        FROM new_running GROUP BY 1, 2, 3, 4
        ON CONFLICT (product_id, cohort_id, artifact, version) DO UPDATE SET
            devices = v.devices + excluded.devices;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE version_counts v SET devices = v.devices - o.devices
        FROM (SELECT product_id, cohort_id, artifact, version, COUNT(*) AS devices
            FROM old_running GROUP BY 1, 2, 3, 4) o
        WHERE v.product_id = o.product_id AND v.cohort_id = o.cohort_id
            AND v.artifact = o.artifact AND v.version = o.version;
    ELSE
        INSERT INTO version_counts AS v (product_id, cohort_id, artifact, version, devices)
        SELECT product_id, cohort_id, artifact, version, SUM(devices) FROM (
            SELECT product_id, cohort_id, artifact, version, 1 AS devices FROM new_running
            UNION ALL
            SELECT product_id, cohort_id, artifact, version, -1 FROM old_running
        ) delta GROUP BY 1, 2, 3, 4 HAVING SUM(devices) <> 0
        ON CONFLICT (product_id, cohort_id, artifact, version) DO UPDATE SET
            devices = v.devices + excluded.devices;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER device_running_counted AFTER INSERT ON device_running
REFERENCING NEW TABLE AS new_running FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_versions();
CREATE TRIGGER device_running_recounted AFTER UPDATE ON device_running
REFERENCING OLD TABLE AS old_running NEW TABLE AS new_running
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_versions();
CREATE TRIGGER device_running_uncounted AFTER DELETE ON device_running
REFERENCING OLD TABLE AS old_running FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_versions();

-- release_devices -> release_states.
CREATE FUNCTION fleet_count_release_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO release_states AS s (release_id, state, reason_given, reason, devices)
        SELECT release_id, COALESCE(state, ''),
            COALESCE(state IN ('failed', 'rolled_back') AND reason IS NOT NULL, FALSE),
            CASE WHEN state IN ('failed', 'rolled_back') THEN COALESCE(reason, '') ELSE '' END,
            COUNT(*)
        FROM new_release_devices GROUP BY 1, 2, 3, 4
        ON CONFLICT (release_id, state, reason_given, reason) DO UPDATE SET
            devices = s.devices + excluded.devices;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE release_states s SET devices = s.devices - o.devices
        FROM (SELECT release_id, COALESCE(state, '') AS state,
                COALESCE(state IN ('failed', 'rolled_back') AND reason IS NOT NULL, FALSE)
                    AS reason_given,
                CASE WHEN state IN ('failed', 'rolled_back') THEN COALESCE(reason, '') ELSE ''
                    END AS reason,
                COUNT(*) AS devices
            FROM old_release_devices GROUP BY 1, 2, 3, 4) o
        WHERE s.release_id = o.release_id AND s.state = o.state
            AND s.reason_given = o.reason_given AND s.reason = o.reason;
    ELSE
        INSERT INTO release_states AS s (release_id, state, reason_given, reason, devices)
        SELECT release_id, COALESCE(state, ''),
            COALESCE(state IN ('failed', 'rolled_back') AND reason IS NOT NULL, FALSE),
            CASE WHEN state IN ('failed', 'rolled_back') THEN COALESCE(reason, '') ELSE '' END,
            SUM(devices)
        FROM (
            SELECT release_id, state, reason, 1 AS devices FROM new_release_devices
            UNION ALL
            SELECT release_id, state, reason, -1 FROM old_release_devices
        ) delta GROUP BY 1, 2, 3, 4 HAVING SUM(devices) <> 0
        ON CONFLICT (release_id, state, reason_given, reason) DO UPDATE SET
            devices = s.devices + excluded.devices;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER release_devices_counted AFTER INSERT ON release_devices
REFERENCING NEW TABLE AS new_release_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_release_states();
CREATE TRIGGER release_devices_recounted AFTER UPDATE ON release_devices
REFERENCING OLD TABLE AS old_release_devices NEW TABLE AS new_release_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_release_states();
CREATE TRIGGER release_devices_uncounted AFTER DELETE ON release_devices
REFERENCING OLD TABLE AS old_release_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_release_states();
