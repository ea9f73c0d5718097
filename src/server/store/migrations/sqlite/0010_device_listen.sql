-- The device listener: which changes make a device's cached identity stale, and the refusals
-- already recorded as audit events.

-- A device listener resolves a client certificate to a device once per connection and keeps
-- the result while the API key epoch (0008) reads the same. These triggers bump that epoch
-- whenever an identity may have become less valid or different: a certificate revoked,
-- reassigned or deleted; a CA disabled, changed or deleted; a device moved, renamed, given
-- another cohort or deleted. New certificates, CAs and devices only admit more, and need no
-- bump.
CREATE TRIGGER device_certificates_changed_bump_epoch
AFTER UPDATE OF device_id, org_id, ca_id, fingerprint, revoked_at ON device_certificates
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER device_certificates_deleted_bump_epoch AFTER DELETE ON device_certificates
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER certificate_authorities_changed_bump_epoch
AFTER UPDATE OF org_id, product_id, fingerprint, subject_der, certificate_pem, not_before,
    not_after, enabled ON certificate_authorities
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER certificate_authorities_deleted_bump_epoch AFTER DELETE ON certificate_authorities
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER devices_identity_changed_bump_epoch
AFTER UPDATE OF org_id, product_id, cohort_id, identifier ON devices
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.product_id IS NOT NEW.product_id
    OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.identifier IS NOT NEW.identifier
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER devices_deleted_bump_epoch AFTER DELETE ON devices
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

-- The newest `device.refused` event per certificate (or client address, without one) and
-- reason: a device that keeps presenting a refused certificate adds at most one event a
-- minute, whichever replica it reaches.
CREATE TABLE device_refusals (
    subject        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    -- Unix time in milliseconds.
    last_event_at  INTEGER NOT NULL,
    PRIMARY KEY (subject, reason)
);
CREATE INDEX device_refusals_last_event ON device_refusals (last_event_at);
