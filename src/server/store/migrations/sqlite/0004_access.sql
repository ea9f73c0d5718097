-- Access control: API keys get a recognisable prefix, an optional expiry, revocation, their
-- creator and an optional product scope. Keys stay hash-only.

-- The first characters of the key (`fleet_` + 8), shown in listings so a leaked key can be
-- matched to its row; NULL for keys made before this migration.
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
ALTER TABLE api_keys ADD COLUMN revoked_at TEXT;
-- The key that created this one; NULL for the bootstrap key and offline recovery.
ALTER TABLE api_keys ADD COLUMN created_by TEXT;
-- TRUE: the key sees only the products in api_key_products (possibly none, once they are all
-- deleted). An explicit flag, so losing the last scoped product never widens a key to the org.
ALTER TABLE api_keys ADD COLUMN scoped BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE api_key_products (
    key_id      TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    PRIMARY KEY (key_id, product_id)
);
CREATE INDEX api_key_products_product ON api_key_products (product_id);

CREATE INDEX events_key ON events (key_id, id);
CREATE INDEX events_action ON events (action, id);
