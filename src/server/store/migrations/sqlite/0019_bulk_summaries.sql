-- Bulk writes keep the summaries themselves (store/bulk_summaries.rs). SQLite has only per-row
-- triggers, and a bulk change of 100,000 devices ran the summary triggers of 0013 and the
-- epoch trigger of 0010 100,000 times each: most of the time of a bulk UPDATE. While a row of
-- `bulk_writes` exists, the triggers below skip their work and the bulk write applies the
-- same changes in a few set-based statements (counts before and after, one epoch bump). The
-- row exists only inside such a write transaction: SQLite has one writer, and other
-- connections never see it uncommitted. PostgreSQL's triggers are per statement (0018) and
-- need none of this.
CREATE TABLE bulk_writes (id INTEGER PRIMARY KEY CHECK (id = 1));

DROP TRIGGER device_certificates_changed_bump_epoch;
CREATE TRIGGER device_certificates_changed_bump_epoch
AFTER UPDATE OF device_id, org_id, ca_id, fingerprint, revoked_at ON device_certificates
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes)
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

DROP TRIGGER devices_identity_changed_bump_epoch;
CREATE TRIGGER devices_identity_changed_bump_epoch
AFTER UPDATE OF org_id, product_id, cohort_id, identifier ON devices
WHEN (OLD.org_id IS NOT NEW.org_id OR OLD.product_id IS NOT NEW.product_id
    OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.identifier IS NOT NEW.identifier)
    AND NOT EXISTS (SELECT 1 FROM bulk_writes)
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

DROP TRIGGER devices_counted;
CREATE TRIGGER devices_counted AFTER INSERT ON devices
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes)
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

DROP TRIGGER devices_recounted;
CREATE TRIGGER devices_recounted
AFTER UPDATE OF product_id, cohort_id, quarantined, needs_provisioning ON devices
WHEN (OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id
    OR OLD.quarantined IS NOT NEW.quarantined
    OR OLD.needs_provisioning IS NOT NEW.needs_provisioning)
    AND NOT EXISTS (SELECT 1 FROM bulk_writes)
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

DROP TRIGGER devices_moved;
CREATE TRIGGER devices_moved AFTER UPDATE OF product_id, cohort_id ON devices
WHEN (OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id)
    AND NOT EXISTS (SELECT 1 FROM bulk_writes)
BEGIN
    UPDATE device_status SET product_id = NEW.product_id, cohort_id = COALESCE(NEW.cohort_id, '')
    WHERE device_id = NEW.id;
    UPDATE device_running SET product_id = NEW.product_id, cohort_id = COALESCE(NEW.cohort_id, '')
    WHERE device_id = NEW.id;
END;

DROP TRIGGER device_status_recounted;
CREATE TRIGGER device_status_recounted
AFTER UPDATE OF last_seen_at, product_id, cohort_id ON device_status
WHEN (substr(OLD.last_seen_at, 1, 13) IS NOT substr(NEW.last_seen_at, 1, 13)
    OR OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id)
    AND NOT EXISTS (SELECT 1 FROM bulk_writes)
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

DROP TRIGGER device_running_recounted;
CREATE TRIGGER device_running_recounted
AFTER UPDATE OF product_id, cohort_id, artifact, version ON device_running
WHEN (OLD.product_id IS NOT NEW.product_id OR OLD.cohort_id IS NOT NEW.cohort_id
    OR OLD.artifact IS NOT NEW.artifact OR OLD.version IS NOT NEW.version)
    AND NOT EXISTS (SELECT 1 FROM bulk_writes)
BEGIN
    UPDATE version_counts SET devices = devices - 1
    WHERE product_id = OLD.product_id AND cohort_id = OLD.cohort_id
        AND artifact = OLD.artifact AND version = OLD.version;
    INSERT INTO version_counts (product_id, cohort_id, artifact, version, devices)
    VALUES (NEW.product_id, NEW.cohort_id, NEW.artifact, NEW.version, 1)
    ON CONFLICT (product_id, cohort_id, artifact, version) DO UPDATE SET
        devices = version_counts.devices + 1;
END;
