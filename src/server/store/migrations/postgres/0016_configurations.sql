-- Configurations: each product's settings document, its cohorts' and devices' overrides, every
-- revision of each, and the product's JSON Schema and secret key paths.

-- The current document of one level: a product's (cohort_id and device_id NULL), a cohort's
-- override or a device's override. Deleting the cohort or device deletes its override.
CREATE TABLE config_documents (
    -- The product, cohort or device ID the document belongs to.
    owner_id    TEXT PRIMARY KEY,
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id   TEXT REFERENCES cohorts (id) ON DELETE CASCADE,
    device_id   TEXT REFERENCES devices (id) ON DELETE CASCADE,
    level       TEXT NOT NULL CHECK (level IN ('product', 'cohort', 'device')),
    revision    BIGINT NOT NULL,
    -- A JSON object.
    document    TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    key_id      TEXT,
    key_name    TEXT
);
CREATE INDEX config_documents_product ON config_documents (product_id, level);
CREATE INDEX config_documents_cohort ON config_documents (cohort_id);
CREATE INDEX config_documents_device ON config_documents (device_id);

-- Every revision of every document, kept (rollback writes a new one).
CREATE TABLE config_revisions (
    owner_id    TEXT NOT NULL,
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id   TEXT REFERENCES cohorts (id) ON DELETE CASCADE,
    device_id   TEXT REFERENCES devices (id) ON DELETE CASCADE,
    level       TEXT NOT NULL CHECK (level IN ('product', 'cohort', 'device')),
    revision    BIGINT NOT NULL,
    document    TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    key_id      TEXT,
    key_name    TEXT,
    PRIMARY KEY (owner_id, revision)
);
CREATE INDEX config_revisions_cohort ON config_revisions (cohort_id);
CREATE INDEX config_revisions_device ON config_revisions (device_id);

-- A product's JSON Schema (NULL: none) and the key paths whose values are secret.
CREATE TABLE config_settings (
    product_id       TEXT PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    schema_document  TEXT,
    schema_revision  BIGINT NOT NULL DEFAULT 0,
    schema_updated_at TIMESTAMPTZ,
    -- JSON array of dotted key paths.
    secrets          TEXT NOT NULL DEFAULT '[]'
);

-- What a device said about the configuration it was sent and could not apply:
-- JSON `{"revision": R, "reason": "..."}`, NULL once it applies one.
ALTER TABLE device_status ADD COLUMN config_failure TEXT;
