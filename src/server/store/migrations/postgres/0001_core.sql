-- The PostgreSQL twin of ../sqlite/0001_core.sql: the same tables and meaning, PostgreSQL types.
-- Core tenancy and inventory: organizations, API keys, products, cohorts, devices, and the
-- idempotency-key store. The PostgreSQL twin of ../sqlite/0001_core.sql.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'write', 'read')),
    -- SHA-256 of the whole key, lowercase hex; the key itself is never stored.
    hash          TEXT NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX api_keys_org ON api_keys (org_id, id);

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    -- JSON array of `key:value` strings, sorted and deduplicated.
    tags         TEXT NOT NULL DEFAULT '[]',
    archived     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    revision     BIGINT NOT NULL DEFAULT 1,
    UNIQUE (org_id, name)
);
CREATE INDEX products_org ON products (org_id, id);

CREATE TABLE cohorts (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    revision     BIGINT NOT NULL DEFAULT 1,
    UNIQUE (product_id, name),
    -- Target of the devices' (cohort_id, product_id) foreign key.
    UNIQUE (id, product_id)
);
CREATE INDEX cohorts_org ON cohorts (org_id, id);
CREATE INDEX cohorts_product ON cohorts (product_id, id);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    -- No cascade: a product with devices cannot be deleted.
    product_id   TEXT NOT NULL REFERENCES products (id),
    cohort_id    TEXT,
    identifier   TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]',
    target       TEXT,
    quarantined  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    revision     BIGINT NOT NULL DEFAULT 1,
    UNIQUE (org_id, identifier),
    -- The database itself refuses a device whose cohort belongs to another product.
    FOREIGN KEY (cohort_id, product_id) REFERENCES cohorts (id, product_id)
);
CREATE INDEX devices_org ON devices (org_id, id);
CREATE INDEX devices_product ON devices (product_id, id);
CREATE INDEX devices_cohort ON devices (cohort_id, id);

CREATE TABLE idempotency_keys (
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    key           TEXT NOT NULL,
    -- SHA-256 over method, path and body: a reused key must come with the same request.
    request_hash  TEXT NOT NULL,
    -- NULL while the first request with this key is still running.
    status        BIGINT,
    -- JSON object of the replayed response headers (content-type, location, etag).
    headers       TEXT,
    body          BYTEA,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
