-- The offers epoch: a second counter in the epoch row, bumped by every change that can change
-- what a check-in is answered (store::device_offers::context): a device's product, cohort,
-- quarantine, target or identifier; its reported target; its update state; a product or cohort
-- renamed; a release created, changed or deleted; a bundle renamed or deleted; a configuration
-- document written or deleted. A replica keeps the devices' contexts in memory while the
-- epoch, read fresh for each request with the auth epoch, reads the same.
-- A new device needs no bump: nothing can have cached its context yet.
ALTER TABLE auth_epoch ADD COLUMN offers_epoch INTEGER NOT NULL DEFAULT 0;

-- One trigger for both epochs, so a bulk UPDATE of 100,000 devices writes the epoch row once
-- per row, as before: the auth epoch moves for identity changes, the offers epoch for those
-- and for quarantine and target.
DROP TRIGGER devices_identity_changed_bump_epoch;
CREATE TRIGGER devices_changed_bump_epochs
AFTER UPDATE OF org_id, product_id, cohort_id, identifier, quarantined, target ON devices
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.product_id IS NOT NEW.product_id
    OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.identifier IS NOT NEW.identifier
    OR OLD.quarantined IS NOT NEW.quarantined OR OLD.target IS NOT NEW.target
BEGIN
    UPDATE auth_epoch SET
        epoch = epoch + (OLD.org_id IS NOT NEW.org_id OR OLD.product_id IS NOT NEW.product_id
            OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.identifier IS NOT NEW.identifier),
        offers_epoch = offers_epoch + 1
    WHERE id = 1;
END;

DROP TRIGGER devices_deleted_bump_epoch;
CREATE TRIGGER devices_deleted_bump_epochs AFTER DELETE ON devices
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1, offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER device_status_target_set_bump_offers_epoch AFTER INSERT ON device_status
WHEN NEW.reported_target IS NOT NULL
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER device_status_target_changed_bump_offers_epoch
AFTER UPDATE OF reported_target ON device_status
WHEN OLD.reported_target IS NOT NEW.reported_target
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER device_updates_added_bump_offers_epoch AFTER INSERT ON device_updates
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER device_updates_changed_bump_offers_epoch
AFTER UPDATE OF device_id, release_id, state ON device_updates
WHEN OLD.device_id IS NOT NEW.device_id OR OLD.release_id IS NOT NEW.release_id
    OR OLD.state IS NOT NEW.state
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER device_updates_deleted_bump_offers_epoch AFTER DELETE ON device_updates
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER products_renamed_bump_offers_epoch AFTER UPDATE OF name ON products
WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER cohorts_renamed_bump_offers_epoch AFTER UPDATE OF name ON cohorts
WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER cohorts_deleted_bump_offers_epoch AFTER DELETE ON cohorts
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER releases_added_bump_offers_epoch AFTER INSERT ON releases
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER releases_changed_bump_offers_epoch AFTER UPDATE ON releases
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER releases_deleted_bump_offers_epoch AFTER DELETE ON releases
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER bundles_renamed_bump_offers_epoch AFTER UPDATE OF name ON bundles
WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER bundles_deleted_bump_offers_epoch AFTER DELETE ON bundles
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER config_documents_added_bump_offers_epoch AFTER INSERT ON config_documents
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER config_documents_changed_bump_offers_epoch
AFTER UPDATE OF owner_id, product_id, revision ON config_documents
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER config_documents_deleted_bump_offers_epoch AFTER DELETE ON config_documents
BEGIN
    UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
END;
