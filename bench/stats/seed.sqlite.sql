-- bench/stats.sh: a product's fleet written straight into SQLite, through the summaries'
-- triggers. @ORG@, @PRODUCT@ and @DEVICES@ are replaced by the script; the PostgreSQL seed
-- (seed.postgres.sql) writes the same rows. Devices: 4 cohorts, 1 in 25 without one; 1 in 97
-- quarantined, 1 in 89 needing provisioning; 95% checked in: 70% within the last 5 minutes,
-- 10% within 1–24 h, 10% within 1–7 days, 5% within 7–60 days; every seen device runs app
-- (1.0.0 20%, 1.1.0 70%, 1.2.0-rc1 10%), half of them bootloader 2.0.0 too. Each cohort has two
-- releases: the older offered to all its devices, which all succeeded; the newer (75%) to 3 in
-- 4 of them: 4% failed (3 reasons), 1% rolled back, the rest succeeded. Three reports per
-- offer (downloading, installing, the outcome): 5.04 million reports for 1 million devices.
PRAGMA foreign_keys = ON;
BEGIN;
CREATE TEMP TABLE seq AS WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s
    WHERE i < @DEVICES@ - 1) SELECT i FROM s;
CREATE TEMP TABLE moment AS SELECT strftime('%s', 'now') AS now;
INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at)
SELECT printf('coh_%032x', i + 1), '@ORG@', '@PRODUCT@', 'cohort-' || (i + 1),
    strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-90 days'),
    strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-90 days')
FROM seq WHERE i < 4;
INSERT INTO bundles (id, org_id, product_id, name, created_at)
SELECT printf('bnd_%032x', i + 1), '@ORG@', '@PRODUCT@', 'app-' || (i + 1),
    strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-30 days')
FROM seq WHERE i < 2;
-- Release k (0 older, 1 newer) of cohort c (0–3) is rel_…(c * 2 + k + 1).
INSERT INTO releases (id, org_id, product_id, cohort_id, bundle_id, rollout_percent,
    created_at, updated_at)
SELECT printf('rel_%032x', c.i * 2 + k.i + 1), '@ORG@', '@PRODUCT@',
    printf('coh_%032x', c.i + 1), printf('bnd_%032x', k.i + 1), 100 - 25 * k.i,
    strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', printf('-%d days', 30 - 27 * k.i)),
    strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', printf('-%d days', 30 - 27 * k.i))
FROM (SELECT 0 AS i UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) c,
    (SELECT 0 AS i UNION ALL SELECT 1) k;
-- A device is a `devices` row and its `device_details` row (migration 0019), created and
-- last updated at the same moment, 90 days ago.
CREATE TEMP TABLE made AS SELECT strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-90 days') AS at;
INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, needs_provisioning,
    updated_at)
SELECT printf('dev_%032x', i), '@ORG@', '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN NULL ELSE printf('coh_%032x', i % 4 + 1) END,
    i % 97 = 0, i % 89 = 0, made.at
FROM seq, made;
INSERT INTO device_details (device_id, org_id, identifier, created_at)
SELECT printf('dev_%032x', i), '@ORG@', printf('device-%07d', i), made.at
FROM seq, made;
-- Seconds since the last check-in, spread by a multiplicative hash of i.
INSERT INTO device_status (device_id, product_id, cohort_id, last_seen_at, check_ins)
SELECT printf('dev_%032x', i), '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN '' ELSE printf('coh_%032x', i % 4 + 1) END,
    strftime('%Y-%m-%dT%H:%M:%f+00:00', now - CASE
        WHEN i % 20 < 14 THEN (i * 7919) % 300
        WHEN i % 20 < 16 THEN 3600 + (i * 7919) % 82800
        WHEN i % 20 < 18 THEN 86400 + (i * 7919) % 518400
        ELSE 604800 + (i * 7919) % 4579200 END, 'unixepoch'), 100 + i % 1000
FROM seq, moment WHERE i % 20 <> 19;
INSERT INTO device_running (device_id, product_id, cohort_id, artifact, version)
SELECT printf('dev_%032x', i), '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN '' ELSE printf('coh_%032x', i % 4 + 1) END, 'app',
    CASE WHEN (i * 13) % 10 < 2 THEN '1.0.0' WHEN (i * 13) % 10 < 9 THEN '1.1.0'
        ELSE '1.2.0-rc1' END
FROM seq WHERE i % 20 <> 19;
INSERT INTO device_running (device_id, product_id, cohort_id, artifact, version)
SELECT printf('dev_%032x', i), '@PRODUCT@',
    CASE WHEN i % 25 = 24 THEN '' ELSE printf('coh_%032x', i % 4 + 1) END, 'bootloader', '2.0.0'
FROM seq WHERE i % 20 <> 19 AND i % 2 = 0;
-- Offers (device i, release k), with the seconds since the offer and the outcome.
CREATE TEMP TABLE offers AS
SELECT seq.i AS i, k.i AS k, printf('dev_%032x', seq.i) AS device_id,
    printf('rel_%032x', (seq.i % 4) * 2 + k.i + 1) AS release_id,
    2592000 - 2332800 * k.i - (seq.i * 7919) % 86400 AS ago,
    CASE WHEN k.i = 0 OR (seq.i * 7919) % 100 >= 5 THEN 'succeeded'
        WHEN (seq.i * 7919) % 100 < 4 THEN 'failed' ELSE 'rolled_back' END AS outcome,
    CASE WHEN (seq.i * 7919) % 100 = 4 THEN 'health check failed'
        WHEN seq.i % 3 = 0 THEN 'checksum mismatch' WHEN seq.i % 3 = 1 THEN 'disk full'
        ELSE 'install timeout' END AS reason
FROM seq, (SELECT 0 AS i UNION ALL SELECT 1) k
WHERE seq.i % 25 <> 24 AND (k.i = 0 OR (seq.i * 31) % 4 <> 0);
-- The offers first, as the check-in writer records them, so the reports' trigger measures
-- offer to success.
INSERT INTO release_devices (release_id, device_id, offered_at)
SELECT release_id, device_id, strftime('%Y-%m-%dT%H:%M:%f+00:00', now - ago, 'unixepoch')
FROM offers, moment;
INSERT INTO update_reports (id, device_id, release_id, state, reason, reported_at)
SELECT printf('%032x', (offers.i * 2 + k) * 4 + n.i), device_id, release_id,
    CASE n.i WHEN 0 THEN 'downloading' WHEN 1 THEN 'installing' ELSE outcome END,
    CASE WHEN n.i = 2 AND outcome <> 'succeeded' THEN reason END,
    strftime('%Y-%m-%dT%H:%M:%f+00:00',
        now - ago + 60 * (n.i + 1) + CASE WHEN n.i = 2 THEN (offers.i * 31) % 600 ELSE 0 END,
        'unixepoch')
FROM offers, moment, (SELECT 0 AS i UNION ALL SELECT 1 UNION ALL SELECT 2) n;
COMMIT;
ANALYZE;
