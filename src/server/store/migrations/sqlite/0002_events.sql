-- The audit log: one row per write (and per refused attempt), append-only through the API.
-- product_id and resource_id carry no foreign keys: events outlive what they describe.

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    occurred_at  TEXT NOT NULL,
    -- The API key that acted; NULL when the request carried no known key.
    key_id       TEXT,
    key_name     TEXT,
    -- `<resource>.<verb>`, e.g. `product.created`, `device.moved`, `auth.denied`.
    action       TEXT NOT NULL,
    resource_id  TEXT,
    product_id   TEXT,
    -- `ok`, `denied` or `failed`.
    result       TEXT NOT NULL CHECK (result IN ('ok', 'denied', 'failed')),
    -- JSON object with action-specific facts (e.g. source and target product of a move).
    details      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX events_product ON events (product_id, id);
CREATE INDEX events_resource ON events (resource_id, id);
