-- Bulk device updates (move, cohort assign/unassign of 100,000 devices) on PostgreSQL: two
-- costs of the UPDATE that the schema, not the engine, decides (measured in bench/RESULTS.md).

-- 1. One statement trigger on UPDATE instead of two. The auth epoch's trigger (0018) and the
-- counts' trigger each read both transition tables and each hashed a set difference of them
-- (identity columns; id, product, cohort): four passes over 2 x 100,000 captured rows and two
-- hash tables for one statement. The one below reads them twice for the counts and computes
-- one difference, on the identity columns, that serves both the epoch and the status and
-- running rows: those rows carry the device's product and cohort, so comparing with them
-- (rather than with the old device row) tells which of them a change moves.
DROP TRIGGER devices_identity_changed_bump_epoch ON devices;
DROP TRIGGER devices_recounted ON devices;
DROP FUNCTION fleet_bump_auth_epoch_for_devices();

CREATE FUNCTION fleet_devices_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    identity_changed BOOLEAN;
BEGIN
    -- Each new row counted +1 and each old row -1: a device that kept its product, cohort and
    -- flags cancels out.
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

    -- The devices whose identity changed, as they are now. Every id is once in each
    -- transition table, so this is empty exactly when the old rows minus the new ones are.
    WITH changed AS MATERIALIZED (
        SELECT id, org_id, product_id, cohort_id, identifier FROM new_devices
        EXCEPT
        SELECT id, org_id, product_id, cohort_id, identifier FROM old_devices
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
    SELECT EXISTS (SELECT 1 FROM changed) INTO identity_changed;

    IF identity_changed THEN
        UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
        PERFORM pg_notify('fleet_auth_epoch', current_schema());
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER devices_updated AFTER UPDATE ON devices
REFERENCING OLD TABLE AS old_devices NEW TABLE AS new_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_devices_updated();

-- fleet_count_devices keeps INSERT and DELETE; its UPDATE branch is the function above.
CREATE OR REPLACE FUNCTION fleet_count_devices() RETURNS trigger LANGUAGE plpgsql AS $$
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
    END IF;
    RETURN NULL;
END
$$;

-- 2. No index entries for devices without a cohort. An UPDATE that changes an indexed column
-- (cohort_id, product_id) cannot be HOT, so every index of `devices` gets a new entry for each
-- changed row, whether its key changed or not; index maintenance is most of a bulk UPDATE's
-- time. A move without a target cohort and an unassign leave the cohort NULL, and nothing
-- looks devices up by a NULL cohort through this index (`cohort_id = …` lookups, including
-- the cohorts' foreign key checks, imply NOT NULL, so the partial index still serves them).
DROP INDEX devices_cohort;
CREATE INDEX devices_cohort ON devices (cohort_id, id) WHERE cohort_id IS NOT NULL;
