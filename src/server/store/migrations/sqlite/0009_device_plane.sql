-- The device plane (issue 11): per-product certificate authorities with JITP settings, device
-- certificates, what each device last reported at check-in, and its update reports.

-- A CA certificate trusted for one product's devices. The same certificate can be registered
-- once in the whole service: a device certificate must lead to exactly one product.
CREATE TABLE certificate_authorities (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations (id),
    product_id        TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    certificate_pem   TEXT NOT NULL,
    -- Lowercase hex SHA-256 of the certificate's DER.
    fingerprint       TEXT NOT NULL UNIQUE,
    -- The certificate's subject as DER, to find the CA a device certificate names as issuer.
    subject_der       BLOB NOT NULL,
    -- The subject for people (RFC 4514).
    subject           TEXT NOT NULL,
    not_before        TEXT NOT NULL,
    not_after         TEXT NOT NULL,
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    jitp_enabled      BOOLEAN NOT NULL DEFAULT FALSE,
    -- Defaults a device provisioned just in time gets.
    jitp_cohort_id    TEXT REFERENCES cohorts (id) ON DELETE SET NULL,
    jitp_tags         TEXT NOT NULL DEFAULT '[]',
    jitp_target       TEXT,
    jitp_description  TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    revision          BIGINT NOT NULL DEFAULT 1,
    UNIQUE (product_id, name)
);
CREATE INDEX certificate_authorities_product ON certificate_authorities (product_id, id);
CREATE INDEX certificate_authorities_subject ON certificate_authorities (subject_der);

-- A certificate a device authenticates with. Registered by an operator, issued by
-- `fleet device cert issue` and registered, or recorded the first time a device presented it
-- (JITP, or a known device under a CA of its product). Revoked certificates are kept, so the
-- device API can tell "revoked" from "unknown".
CREATE TABLE device_certificates (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    device_id       TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    -- The CA it chains to, when it chains to a registered one.
    ca_id           TEXT REFERENCES certificate_authorities (id) ON DELETE SET NULL,
    -- Lowercase hex SHA-256 of the certificate's DER.
    fingerprint     TEXT NOT NULL UNIQUE,
    certificate_pem TEXT NOT NULL,
    subject         TEXT NOT NULL,
    serial          TEXT NOT NULL,
    not_before      TEXT NOT NULL,
    not_after       TEXT NOT NULL,
    -- `registered` (an operator added it) or `presented` (recorded at first use).
    source          TEXT NOT NULL CHECK (source IN ('registered', 'presented')),
    created_at      TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_reason  TEXT
);
CREATE INDEX device_certificates_device ON device_certificates (device_id, id);

-- What each device said at its latest check-in. Written on every check-in, so it lives apart
-- from `devices`: a check-in changes neither the device's revision nor its audit trail.
CREATE TABLE device_status (
    device_id        TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    last_seen_at     TEXT NOT NULL,
    last_address     TEXT,
    check_ins        BIGINT NOT NULL DEFAULT 0,
    reported_target  TEXT,
    boot_id          TEXT,
    uptime_s         BIGINT,
    config_revision  BIGINT,
    -- JSON object, the device's free-form status.
    status           TEXT
);
CREATE INDEX device_status_last_seen ON device_status (last_seen_at);

-- One row per artifact a device runs, for `device list --running app@1.4.0`.
CREATE TABLE device_running (
    device_id  TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    artifact   TEXT NOT NULL,
    version    TEXT NOT NULL,
    sha256     TEXT,
    PRIMARY KEY (device_id, artifact)
);
CREATE INDEX device_running_version ON device_running (artifact, version);

-- Every state a device reported for a release, oldest first; a repeated report adds nothing.
CREATE TABLE update_reports (
    -- UUIDv7 (time-ordered): history reads in id order.
    id           TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    release_id   TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    state        TEXT NOT NULL CHECK (state IN ('downloading', 'installing', 'succeeded', 'failed', 'rolled_back')),
    reason       TEXT,
    reported_at  TEXT NOT NULL,
    UNIQUE (device_id, release_id, state)
);
CREATE INDEX update_reports_device ON update_reports (device_id, id);
CREATE INDEX update_reports_release ON update_reports (release_id, state);

-- A device's latest update state, for `device list --update-state failed`.
CREATE TABLE device_updates (
    device_id   TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    release_id  TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    state       TEXT NOT NULL CHECK (state IN ('downloading', 'installing', 'succeeded', 'failed', 'rolled_back')),
    reason      TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX device_updates_state ON device_updates (state);
