-- no-transaction
-- A device's row is split in two, as on PostgreSQL (its 0023 says why): `devices` keeps what a
-- bulk change writes and what its triggers count; `device_details` holds the rest. Reads see
-- the whole device through the `device_records` view.
-- SQLite cannot drop columns that a constraint names, so `devices` is rebuilt (the procedure
-- of SQLite's "ALTER TABLE" page). The first line has `store::sqlite_migrate` run this in one
-- transaction with foreign keys off, so that dropping the old table does not cascade into the
-- rows that reference it; the legacy rename leaves every reference to `devices` as it is.
PRAGMA legacy_alter_table = ON;

CREATE TABLE device_details (
    device_id    TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    -- The device's organization again (it never changes): identifiers are unique per org.
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    identifier   TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]',
    target       TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (org_id, identifier)
);
CREATE INDEX device_details_org ON device_details (org_id, device_id);
INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
SELECT id, org_id, identifier, description, tags, target, created_at FROM devices;

CREATE TABLE devices_narrow (
    id                      TEXT PRIMARY KEY,
    org_id                  TEXT NOT NULL REFERENCES organizations (id),
    -- No cascade: a product with devices cannot be deleted.
    product_id              TEXT NOT NULL REFERENCES products (id),
    cohort_id               TEXT,
    quarantined             BOOLEAN NOT NULL DEFAULT FALSE,
    needs_provisioning      BOOLEAN NOT NULL DEFAULT FALSE,
    credentials_revoked_at  TEXT,
    updated_at              TEXT NOT NULL,
    revision                BIGINT NOT NULL DEFAULT 1,
    -- The database itself refuses a device whose cohort belongs to another product.
    FOREIGN KEY (cohort_id, product_id) REFERENCES cohorts (id, product_id)
);
INSERT INTO devices_narrow (id, org_id, product_id, cohort_id, quarantined, needs_provisioning,
    credentials_revoked_at, updated_at, revision)
SELECT id, org_id, product_id, cohort_id, quarantined, needs_provisioning,
    credentials_revoked_at, updated_at, revision
FROM devices;
DROP TABLE devices;
ALTER TABLE devices_narrow RENAME TO devices;
CREATE INDEX devices_product ON devices (product_id, id);
CREATE INDEX devices_cohort ON devices (cohort_id, id);

-- The triggers dropped with the old table, restated (0013, 0018); the identity change that
-- the old table's epoch trigger saw in `identifier` and `target` is now seen on the details.
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

CREATE TRIGGER devices_changed_bump_epochs
AFTER UPDATE OF org_id, product_id, cohort_id, quarantined ON devices
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.product_id IS NOT NEW.product_id
    OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.quarantined IS NOT NEW.quarantined
BEGIN
    UPDATE auth_epoch SET
        epoch = epoch + (OLD.org_id IS NOT NEW.org_id OR OLD.product_id IS NOT NEW.product_id
            OR OLD.cohort_id IS NOT NEW.cohort_id),
        offers_epoch = offers_epoch + 1
    WHERE id = 1;
END;

CREATE TRIGGER device_details_changed_bump_epochs
AFTER UPDATE OF org_id, identifier, target ON device_details
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.identifier IS NOT NEW.identifier
    OR OLD.target IS NOT NEW.target
BEGIN
    UPDATE auth_epoch SET
        epoch = epoch + (OLD.org_id IS NOT NEW.org_id OR OLD.identifier IS NOT NEW.identifier),
        offers_epoch = offers_epoch + 1
    WHERE id = 1;
END;

CREATE TRIGGER devices_deleted_bump_epochs AFTER DELETE ON devices
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1, offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

-- The whole device, as one row: what every read that shows or matches a device selects from.
CREATE VIEW device_records AS
SELECT d.id, i.org_id, d.product_id, d.cohort_id, i.identifier, i.description, i.tags,
    i.target, d.quarantined, d.needs_provisioning, d.credentials_revoked_at, i.created_at,
    d.updated_at, d.revision
FROM devices d JOIN device_details i ON i.device_id = d.id;

PRAGMA legacy_alter_table = OFF;
