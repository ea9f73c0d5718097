-- Authentication state every replica shares through the database, so none of it lives in one
-- replica's memory or files.

-- The API key epoch: a counter bumped by every change that can make a cached key less valid
-- (revocation, expiry, role, scope, deletion), by the triggers below, inside the transaction
-- making the change, whoever makes it (the API, `fleet server`, a hand edit). Each replica
-- trusts a cached key only while the epoch still reads as it did before the key's row was read.
CREATE TABLE auth_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  INTEGER NOT NULL
);
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);

-- last_used_at is left out: it changes nothing about what a key may do, and is written often.
CREATE TRIGGER api_keys_changed_bump_epoch
AFTER UPDATE OF id, org_id, name, role, hash, expires_at, revoked_at, scoped ON api_keys
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER api_keys_deleted_bump_epoch AFTER DELETE ON api_keys
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

-- Also fires for the rows a product deletion cascades to. An insert only widens a scope (and
-- happens when a key is created, before anything could cache it), so it needs no bump.
CREATE TRIGGER api_key_products_changed_bump_epoch AFTER UPDATE ON api_key_products
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER api_key_products_deleted_bump_epoch AFTER DELETE ON api_key_products
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

-- Brute-force protection: invalid API keys per client address in its current window (which
-- starts at the client's first failure and lasts a minute), counted by one atomic upsert.
CREATE TABLE auth_failures (
    client        TEXT PRIMARY KEY,
    -- Unix time in milliseconds.
    window_start  INTEGER NOT NULL,
    failures      INTEGER NOT NULL
);
CREATE INDEX auth_failures_window ON auth_failures (window_start);
