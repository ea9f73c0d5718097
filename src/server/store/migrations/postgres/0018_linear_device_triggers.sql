-- The statement-level triggers on `devices` compared each statement's old and new rows with
-- `old_devices o JOIN new_devices n ON n.id = o.id`. PostgreSQL planned that join of two
-- transition tables as a nested loop, so an UPDATE of n devices cost n² comparisons: 5,000
-- devices took 5 s and 10,000 took 23–26 s, whatever the UPDATE changed. Both functions now
-- compare the two sets without a join: set differences (EXCEPT, hashed or sorted) and sums of
-- +1 per new row and -1 per old row, which cost n log n at worst and need no plan choice.

-- The auth epoch moves when any device's identity columns changed: then some old row is not
-- among the new ones (the ids are the same on both sides of an UPDATE).
CREATE OR REPLACE FUNCTION fleet_bump_auth_epoch_for_devices() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT id, org_id, product_id, cohort_id, identifier FROM old_devices
        EXCEPT
        SELECT id, org_id, product_id, cohort_id, identifier FROM new_devices
    ) THEN
        UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
        PERFORM pg_notify('fleet_auth_epoch', current_schema());
    END IF;
    RETURN NULL;
END
$$;

-- devices -> device_counts. On UPDATE the delta per product and cohort is each new row counted
-- +1 and each old row -1: a device that kept its product, cohort and flags cancels out.
-- A device whose product or cohort changed carries them onto its status and running rows.
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
    ELSE
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
        -- One statement, so the moved devices are found once for both tables.
        WITH moved AS (
            SELECT id, product_id, cohort_id FROM new_devices
            EXCEPT
            SELECT id, product_id, cohort_id FROM old_devices
        ), status AS (
            UPDATE device_status s SET product_id = m.product_id,
                cohort_id = COALESCE(m.cohort_id, '')
            FROM moved m WHERE s.device_id = m.id
        )
        UPDATE device_running r SET product_id = m.product_id,
            cohort_id = COALESCE(m.cohort_id, '')
        FROM moved m WHERE r.device_id = m.id;
    END IF;
    RETURN NULL;
END
$$;
