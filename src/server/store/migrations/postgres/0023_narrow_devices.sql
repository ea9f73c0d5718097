-- A device's row is split in two. `devices` keeps what a bulk change writes (product, cohort,
-- quarantine, the provisioning state, revision, `updated_at`) and what its triggers count;
-- `device_details` holds the rest (identifier, description, tags, target, `created_at`).
-- PostgreSQL writes a whole new row version, with an entry in every index, for each row an
-- UPDATE touches: a bulk move or cohort assign of 100,000 devices spent 2.2-3.6 s rewriting
-- the wide rows and their five indexes, against 0.8-1.5 s for this narrow table with three
-- (bench/RESULTS.md). Reads see the whole device through the `device_records` view.
-- Existing rows shrink as they are next written (DROP COLUMN only hides the values);
-- `VACUUM FULL devices` reclaims the space at once.
CREATE TABLE device_details (
    device_id    TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    -- The device's organization again (it never changes): identifiers are unique per org.
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    identifier   TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]',
    target       TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, identifier)
);
CREATE INDEX device_details_org ON device_details (org_id, device_id);

INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
SELECT id, org_id, identifier, description, tags, target, created_at FROM devices;

-- Restated first: the old body reads the columns about to be dropped.
CREATE OR REPLACE FUNCTION fleet_devices_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_any BOOLEAN;
BEGIN
    INSERT INTO device_counts AS c (product_id, cohort_id, devices, quarantined,
        needs_provisioning)
    SELECT product_id, cohort_id, SUM(devices), SUM(quarantined), SUM(needs_provisioning)
    FROM (
        SELECT product_id, COALESCE(cohort_id, '') AS cohort_id, 1 AS devices,
            CASE WHEN quarantined THEN 1 ELSE 0 END AS quarantined,
            CASE WHEN needs_provisioning THEN 1 ELSE 0 END AS needs_provisioning
        FROM new_devices
        UNION ALL
        SELECT product_id, COALESCE(cohort_id, ''), -1,
            CASE WHEN quarantined THEN -1 ELSE 0 END,
            CASE WHEN needs_provisioning THEN -1 ELSE 0 END
        FROM old_devices
    ) delta GROUP BY 1, 2
    HAVING SUM(devices) <> 0 OR SUM(quarantined) <> 0 OR SUM(needs_provisioning) <> 0
    ON CONFLICT (product_id, cohort_id) DO UPDATE SET devices = c.devices + excluded.devices,
        quarantined = c.quarantined + excluded.quarantined,
        needs_provisioning = c.needs_provisioning + excluded.needs_provisioning;

    WITH changed AS MATERIALIZED (
        SELECT id, org_id, product_id, cohort_id, quarantined FROM new_devices
        EXCEPT
        SELECT id, org_id, product_id, cohort_id, quarantined FROM old_devices
    ), status AS (
        UPDATE device_status s SET product_id = m.product_id,
            cohort_id = COALESCE(m.cohort_id, '')
        FROM changed m WHERE s.device_id = m.id
            AND (s.product_id <> m.product_id OR s.cohort_id <> COALESCE(m.cohort_id, ''))
    ), running AS (
        UPDATE device_running r SET product_id = m.product_id,
            cohort_id = COALESCE(m.cohort_id, '')
        FROM changed m WHERE r.device_id = m.id
            AND (r.product_id <> m.product_id OR r.cohort_id <> COALESCE(m.cohort_id, ''))
    )
    SELECT EXISTS (SELECT 1 FROM changed) INTO changed_any;

    IF changed_any THEN
        UPDATE auth_epoch SET epoch = epoch + 1, offers_epoch = offers_epoch + 1 WHERE id = 1;
        PERFORM pg_notify('fleet_auth_epoch', current_schema());
    END IF;
    RETURN NULL;
END
$$;

ALTER TABLE devices DROP COLUMN identifier, DROP COLUMN description, DROP COLUMN tags,
    DROP COLUMN target, DROP COLUMN created_at;
-- Listing a whole organization walks `device_details_org`; one index fewer to write here.
DROP INDEX devices_org;

-- A renamed device or a changed target is an identity change, as it was on the wide row: both
-- epochs move (set difference, not a join of the transition tables: see 0018).
CREATE FUNCTION fleet_device_details_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT device_id, org_id, identifier, target FROM new_details
        EXCEPT
        SELECT device_id, org_id, identifier, target FROM old_details
    ) THEN
        UPDATE auth_epoch SET epoch = epoch + 1, offers_epoch = offers_epoch + 1 WHERE id = 1;
        PERFORM pg_notify('fleet_auth_epoch', current_schema());
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER device_details_updated AFTER UPDATE ON device_details
REFERENCING OLD TABLE AS old_details NEW TABLE AS new_details
FOR EACH STATEMENT EXECUTE FUNCTION fleet_device_details_updated();

-- The whole device, as one row: what every read that shows or matches a device selects from.
CREATE VIEW device_records AS
SELECT d.id, i.org_id, d.product_id, d.cohort_id, i.identifier, i.description, i.tags,
    i.target, d.quarantined, d.needs_provisioning, d.credentials_revoked_at, i.created_at,
    d.updated_at, d.revision
FROM devices d JOIN device_details i ON i.device_id = d.id;
