-- The PostgreSQL twin of ../sqlite/0010_device_listen.sql: which changes make a device's
-- cached identity stale, and the refusals already recorded as audit events.

-- These bump the API key epoch (0008, which also sends NOTIFY) whenever a device identity may
-- have become less valid or different: a certificate revoked, reassigned or deleted; a CA
-- disabled, changed or deleted; a device moved, renamed, given another cohort or deleted.
-- New certificates, CAs and devices only admit more, and need no bump.
CREATE TRIGGER device_certificates_changed_bump_epoch
AFTER UPDATE OF device_id, org_id, ca_id, fingerprint, revoked_at ON device_certificates
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

CREATE TRIGGER device_certificates_deleted_bump_epoch AFTER DELETE ON device_certificates
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

CREATE TRIGGER certificate_authorities_changed_bump_epoch
AFTER UPDATE OF org_id, product_id, fingerprint, subject_der, certificate_pem, not_before,
    not_after, enabled ON certificate_authorities
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

CREATE TRIGGER certificate_authorities_deleted_bump_epoch AFTER DELETE ON certificate_authorities
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

-- Per statement, with the changed rows compared as sets: a bulk move or cohort assignment of
-- 100,000 devices bumps once rather than 100,000 times.
CREATE FUNCTION fleet_bump_auth_epoch_for_devices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_devices o JOIN new_devices n ON n.id = o.id
        WHERE o.org_id IS DISTINCT FROM n.org_id OR o.product_id IS DISTINCT FROM n.product_id
           OR o.cohort_id IS DISTINCT FROM n.cohort_id OR o.identifier IS DISTINCT FROM n.identifier
    ) THEN
        UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
        PERFORM pg_notify('fleet_auth_epoch', current_schema());
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER devices_identity_changed_bump_epoch AFTER UPDATE ON devices
REFERENCING OLD TABLE AS old_devices NEW TABLE AS new_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_bump_auth_epoch_for_devices();

CREATE TRIGGER devices_deleted_bump_epoch AFTER DELETE ON devices
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

-- The newest `device.refused` event per certificate (or client address, without one) and
-- reason: a device that keeps presenting a refused certificate adds at most one event a
-- minute, whichever replica it reaches.
CREATE TABLE device_refusals (
    subject        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    -- Unix time in milliseconds.
    last_event_at  BIGINT NOT NULL,
    PRIMARY KEY (subject, reason)
);
CREATE INDEX device_refusals_last_event ON device_refusals (last_event_at);
