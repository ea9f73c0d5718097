-- Bulk device operations: a device moved to another product loses its credentials and must be
-- provisioned again before it may talk to the service.

ALTER TABLE devices ADD COLUMN needs_provisioning BOOLEAN NOT NULL DEFAULT FALSE;
-- When the device's credentials were last revoked (by a move); NULL if never.
ALTER TABLE devices ADD COLUMN credentials_revoked_at TEXT;
