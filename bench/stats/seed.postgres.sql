-- bench/stats.sh: the rows of seed.sqlite.sql (see there), written straight into PostgreSQL.
-- The per-report trigger of migration 0012 is off while the reports go in (one statement of
-- five million rows would run it five million times); `release_devices` gets the rows it would
-- have made in one statement instead, whose summary trigger then runs once.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE moment AS SELECT date_trunc('second', now()) AS now;
CREATE FUNCTION pg_temp.id(prefix TEXT, n BIGINT) RETURNS TEXT LANGUAGE SQL IMMUTABLE AS
    $$ SELECT prefix || lpad(to_hex(n), 32, '0') $$;
INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at)
SELECT pg_temp.id('coh_', i + 1), '@ORG@', '@PRODUCT@', 'cohort-' || (i + 1),
    now() - interval '90 days', now() - interval '90 days'
FROM generate_series(0, 3) i;
INSERT INTO bundles (id, org_id, product_id, name, created_at)
SELECT pg_temp.id('bnd_', i + 1), '@ORG@', '@PRODUCT@', 'app-' || (i + 1),
    now() - interval '30 days'
FROM generate_series(0, 1) i;
INSERT INTO releases (id, org_id, product_id, cohort_id, bundle_id, rollout_percent,
    created_at, updated_at)
SELECT pg_temp.id('rel_', c * 2 + k + 1), '@ORG@', '@PRODUCT@', pg_temp.id('coh_', c + 1),
    pg_temp.id('bnd_', k + 1), 100 - 25 * k,
    now() - make_interval(days => 30 - 27 * k), now() - make_interval(days => 30 - 27 * k)
FROM generate_series(0, 3) c, generate_series(0, 1) k;
INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, needs_provisioning,
    updated_at)
SELECT pg_temp.id('dev_', i), '@ORG@', '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN NULL ELSE pg_temp.id('coh_', i % 4 + 1) END,
    i % 97 = 0, i % 89 = 0, now() - interval '90 days'
FROM generate_series(0, @DEVICES@ - 1) i;
INSERT INTO device_details (device_id, org_id, identifier, created_at)
SELECT pg_temp.id('dev_', i), '@ORG@', 'device-' || lpad(i::TEXT, 7, '0'),
    now() - interval '90 days'
FROM generate_series(0, @DEVICES@ - 1) i;
INSERT INTO device_status (device_id, product_id, cohort_id, last_seen_at, check_ins)
SELECT pg_temp.id('dev_', i), '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN '' ELSE pg_temp.id('coh_', i % 4 + 1) END,
    m.now - make_interval(secs => CASE
        WHEN i % 20 < 14 THEN (i::BIGINT * 7919) % 300
        WHEN i % 20 < 16 THEN 3600 + (i::BIGINT * 7919) % 82800
        WHEN i % 20 < 18 THEN 86400 + (i::BIGINT * 7919) % 518400
        ELSE 604800 + (i::BIGINT * 7919) % 4579200 END), 100 + i % 1000
FROM generate_series(0, @DEVICES@ - 1) i, moment m WHERE i % 20 <> 19;
INSERT INTO device_running (device_id, product_id, cohort_id, artifact, version)
SELECT pg_temp.id('dev_', i), '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN '' ELSE pg_temp.id('coh_', i % 4 + 1) END, 'app',
    CASE WHEN (i * 13) % 10 < 2 THEN '1.0.0' WHEN (i * 13) % 10 < 9 THEN '1.1.0'
        ELSE '1.2.0-rc1' END
FROM generate_series(0, @DEVICES@ - 1) i WHERE i % 20 <> 19;
INSERT INTO device_running (device_id, product_id, cohort_id, artifact, version)
SELECT pg_temp.id('dev_', i), '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN '' ELSE pg_temp.id('coh_', i % 4 + 1) END, 'bootloader', '2.0.0'
FROM generate_series(0, @DEVICES@ - 1) i WHERE i % 20 <> 19 AND i % 2 = 0;
CREATE TEMP TABLE offers AS
SELECT i, k, pg_temp.id('dev_', i) AS device_id, pg_temp.id('rel_', (i % 4) * 2 + k + 1) AS release_id,
    2592000 - 2332800 * k - (i::BIGINT * 7919) % 86400 AS ago,
    CASE WHEN k = 0 OR (i::BIGINT * 7919) % 100 >= 5 THEN 'succeeded'
        WHEN (i::BIGINT * 7919) % 100 < 4 THEN 'failed' ELSE 'rolled_back' END AS outcome,
    CASE WHEN (i::BIGINT * 7919) % 100 = 4 THEN 'health check failed'
        WHEN i % 3 = 0 THEN 'checksum mismatch' WHEN i % 3 = 1 THEN 'disk full'
        ELSE 'install timeout' END AS reason
FROM generate_series(0, @DEVICES@ - 1) i, generate_series(0, 1) k
WHERE i % 25 <> 24 AND (k = 0 OR (i * 31) % 4 <> 0);
ALTER TABLE update_reports DISABLE TRIGGER update_reports_progress;
INSERT INTO update_reports (id, device_id, release_id, state, reason, reported_at)
SELECT lpad(to_hex((o.i::BIGINT * 2 + o.k) * 4 + n), 32, '0'), o.device_id, o.release_id,
    CASE n WHEN 0 THEN 'downloading' WHEN 1 THEN 'installing' ELSE o.outcome END,
    CASE WHEN n = 2 AND o.outcome <> 'succeeded' THEN o.reason END,
    m.now - make_interval(secs => o.ago - 60 * (n + 1)
        - CASE WHEN n = 2 THEN (o.i * 31) % 600 ELSE 0 END)
FROM offers o, moment m, generate_series(0, 2) n;
ALTER TABLE update_reports ENABLE TRIGGER update_reports_progress;
INSERT INTO release_devices (release_id, device_id, offered_at, state, reason, state_at,
    offer_to_success_ms)
SELECT o.release_id, o.device_id, m.now - make_interval(secs => o.ago), o.outcome,
    CASE WHEN o.outcome <> 'succeeded' THEN o.reason END,
    m.now - make_interval(secs => o.ago - 180 - (o.i * 31) % 600),
    CASE WHEN o.outcome = 'succeeded' THEN (180 + (o.i * 31) % 600) * 1000 END
FROM offers o, moment m;
COMMIT;
VACUUM ANALYZE devices, device_details, device_status, device_running, release_devices,
    update_reports, device_counts, seen_hours, version_counts, release_states;
