-- The PostgreSQL twin of ../sqlite/0005_firmware.sql: the same tables and meaning, PostgreSQL types.
-- Firmware (issue 4): per-product artifacts and versions, binaries uploaded in parts, Ed25519
-- signing keys and signatures, bundles, releases to cohorts, and each product's firmware policy.
-- Everything hangs off its product with ON DELETE CASCADE, so deleting a product (which the API
-- allows only without devices) takes its firmware rows along.

CREATE TABLE artifacts (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (product_id, name)
);
CREATE INDEX artifacts_product ON artifacts (product_id, id);

CREATE TABLE artifact_versions (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    artifact_id  TEXT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    version      TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (artifact_id, version)
);
CREATE INDEX artifact_versions_artifact ON artifact_versions (artifact_id, id);

CREATE TABLE binaries (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    artifact_id  TEXT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    version_id   TEXT NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    target       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    -- Lowercase hex SHA-256 the uploader declared; verified over the parts on completion.
    sha256       TEXT NOT NULL,
    part_size    BIGINT NOT NULL,
    -- `uploading` until complete verified every byte, then `ready` (and immutable).
    state        TEXT NOT NULL CHECK (state IN ('uploading', 'ready')),
    -- Object-store key prefix of this upload's parts; a restarted upload gets a new one.
    blob_prefix  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    ready_at     TIMESTAMPTZ,
    UNIQUE (version_id, target)
);
CREATE INDEX binaries_org ON binaries (org_id, id);
CREATE INDEX binaries_product ON binaries (product_id, id);

CREATE TABLE binary_parts (
    binary_id    TEXT NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    number       BIGINT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (binary_id, number)
);

CREATE TABLE signing_keys (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    name         TEXT NOT NULL,
    -- Standard base64 of the 32-byte Ed25519 public key.
    public_key   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, public_key)
);

-- Deleting a key deletes its signatures: a binary signed only by it counts as unsigned again.
CREATE TABLE binary_signatures (
    binary_id    TEXT NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    key_id       TEXT NOT NULL REFERENCES signing_keys (id) ON DELETE CASCADE,
    signature    TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (binary_id, key_id)
);

CREATE TABLE bundles (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (product_id, name)
);
CREATE INDEX bundles_product ON bundles (product_id, id);

CREATE TABLE bundle_binaries (
    bundle_id    TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    binary_id    TEXT NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    PRIMARY KEY (bundle_id, position),
    UNIQUE (bundle_id, binary_id)
);

CREATE TABLE releases (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES organizations (id),
    product_id           TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cohort_id            TEXT NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    bundle_id            TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    rollout_percent      BIGINT NOT NULL CHECK (rollout_percent BETWEEN 0 AND 100),
    required             BOOLEAN NOT NULL DEFAULT FALSE,
    previous_release_id  TEXT,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    revision             BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX releases_product ON releases (product_id, id);
CREATE INDEX releases_cohort ON releases (cohort_id, id);

CREATE TABLE firmware_policies (
    product_id               TEXT PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    require_signed_firmware  BOOLEAN NOT NULL DEFAULT FALSE
);
