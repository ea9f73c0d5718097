-- The PostgreSQL twin of ../sqlite/0018_offers_epoch.sql: the offers epoch, a second counter in
-- the epoch row, bumped by every change that can change what a check-in is answered. Here the
-- bumps are per statement (one write of the epoch row per statement, however many rows it
-- changes: many writes of one row in one transaction make a version chain each later write
-- walks), and a statement that may have changed nothing can bump it too: that costs the
-- replicas a re-read of the contexts they cached, never a wrong answer.
ALTER TABLE auth_epoch ADD COLUMN offers_epoch BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION fleet_bump_offers_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

-- Devices: 0019's statement trigger, its set difference widened to quarantine and target, bumps
-- both epochs when any device changed in those columns. The auth epoch moves for quarantine and
-- target changes too now: a re-validation of the cached keys and identities, no more.
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
        SELECT id, org_id, product_id, cohort_id, identifier, quarantined, target
        FROM new_devices
        EXCEPT
        SELECT id, org_id, product_id, cohort_id, identifier, quarantined, target
        FROM old_devices
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

CREATE TRIGGER devices_deleted_bump_offers_epoch AFTER DELETE ON devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_offers_epoch();

-- The check-in writer upserts status rows several times a second: only a reported target that
-- appears or changes bumps the epoch.
CREATE FUNCTION fleet_device_status_targets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM new_status WHERE reported_target IS NOT NULL) THEN
            UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
        END IF;
    ELSIF EXISTS (
        SELECT 1 FROM new_status n JOIN old_status o ON o.device_id = n.device_id
        WHERE n.reported_target IS DISTINCT FROM o.reported_target
    ) THEN
        UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER device_status_target_set AFTER INSERT ON device_status
REFERENCING NEW TABLE AS new_status
FOR EACH STATEMENT EXECUTE FUNCTION fleet_device_status_targets();
CREATE TRIGGER device_status_target_changed AFTER UPDATE ON device_status
REFERENCING OLD TABLE AS old_status NEW TABLE AS new_status
FOR EACH STATEMENT EXECUTE FUNCTION fleet_device_status_targets();

CREATE TRIGGER device_updates_changed_bump_offers_epoch
AFTER INSERT OR UPDATE OR DELETE ON device_updates
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_offers_epoch();

CREATE TRIGGER products_renamed_bump_offers_epoch AFTER UPDATE OF name ON products
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_offers_epoch();

CREATE TRIGGER cohorts_changed_bump_offers_epoch AFTER UPDATE OF name OR DELETE ON cohorts
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_offers_epoch();

CREATE TRIGGER releases_changed_bump_offers_epoch AFTER INSERT OR UPDATE OR DELETE ON releases
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_offers_epoch();

CREATE TRIGGER bundles_changed_bump_offers_epoch AFTER UPDATE OF name OR DELETE ON bundles
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_offers_epoch();

CREATE TRIGGER config_documents_changed_bump_offers_epoch
AFTER INSERT OR UPDATE OF owner_id, product_id, revision OR DELETE ON config_documents
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_offers_epoch();
