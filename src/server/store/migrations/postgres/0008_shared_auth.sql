-- The PostgreSQL twin of ../sqlite/0008_shared_auth.sql: the same tables and meaning, PostgreSQL
-- types. Authentication state every replica shares through the database.

-- The API key epoch, bumped by the triggers below inside the transaction making the change.
-- The same trigger sends NOTIFY fleet_auth_epoch (payload: the schema), which PostgreSQL
-- delivers when that transaction commits, so listening replicas drop their cached keys at once.
CREATE TABLE auth_epoch (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    epoch  BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);

CREATE FUNCTION fleet_bump_auth_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
    PERFORM pg_notify('fleet_auth_epoch', current_schema());
    RETURN NULL;
END
$$;

-- last_used_at is left out: it changes nothing about what a key may do, and is written often.
CREATE TRIGGER api_keys_changed_bump_epoch
AFTER UPDATE OF id, org_id, name, role, hash, expires_at, revoked_at, scoped ON api_keys
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

CREATE TRIGGER api_keys_deleted_bump_epoch AFTER DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

-- Also fires for the rows a product deletion cascades to. An insert only widens a scope (and
-- happens when a key is created, before anything could cache it), so it needs no bump.
CREATE TRIGGER api_key_products_changed_bump_epoch AFTER UPDATE OR DELETE ON api_key_products
FOR EACH ROW EXECUTE FUNCTION fleet_bump_auth_epoch();

-- Brute-force protection: invalid API keys per client address in its current window (which
-- starts at the client's first failure and lasts a minute), counted by one atomic upsert.
CREATE TABLE auth_failures (
    client        TEXT PRIMARY KEY,
    -- Unix time in milliseconds.
    window_start  BIGINT NOT NULL,
    failures      BIGINT NOT NULL
);
CREATE INDEX auth_failures_window ON auth_failures (window_start);
