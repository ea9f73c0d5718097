-- bench/stats.sh: raw.sqlite.sql for psql (the figures from the raw tables, as JSON lines).
-- One transaction, rolled back at the end (bench/stats.sh adds the ROLLBACK): the temporary
-- tables cost no commit.
BEGIN;
CREATE TEMP TABLE w AS SELECT '@NOW@'::timestamptz - interval '600 seconds' AS online,
    '@NOW@'::timestamptz - interval '1 hour' AS hour, '@NOW@'::timestamptz - interval '1 day' AS day,
    '@NOW@'::timestamptz - interval '7 days' AS week;
SELECT row_to_json(x) FROM (SELECT 'devices' AS figure, COUNT(*) AS total,
    COUNT(*) FILTER (WHERE d.cohort_id IS NULL) AS without_cohort,
    COUNT(*) FILTER (WHERE d.quarantined) AS quarantined,
    COUNT(*) FILTER (WHERE d.needs_provisioning) AS needs_provisioning,
    COUNT(*) FILTER (WHERE s.last_seen_at >= w.online) AS online,
    COUNT(*) FILTER (WHERE s.last_seen_at >= w.hour) AS seen_last_hour,
    COUNT(*) FILTER (WHERE s.last_seen_at >= w.day) AS seen_last_24h,
    COUNT(*) FILTER (WHERE s.last_seen_at >= w.week) AS seen_last_7d,
    COUNT(*) FILTER (WHERE s.device_id IS NULL) AS never_seen
FROM devices d LEFT JOIN device_status s ON s.device_id = d.id, w
WHERE d.product_id = '@PRODUCT@') x;
SELECT row_to_json(x) FROM (SELECT 'version' AS figure, r.artifact, r.version, COUNT(*) AS devices
FROM devices d JOIN device_running r ON r.device_id = d.id WHERE d.product_id = '@PRODUCT@'
GROUP BY r.artifact, r.version) x;
SELECT row_to_json(x) FROM (SELECT 'check_ins' AS figure, SUM(check_ins) AS n FROM check_in_hours
WHERE product_id = '@PRODUCT@'
    AND hour >= floor(extract(epoch FROM '@NOW@'::timestamptz) / 3600)::BIGINT - 23) x;
CREATE TEMP TABLE rel AS SELECT r.id FROM releases r WHERE r.product_id = '@PRODUCT@'
    AND r.id = (SELECT MAX(r2.id) FROM releases r2 WHERE r2.cohort_id = r.cohort_id);
SELECT row_to_json(x) FROM (SELECT 'state' AS figure, release_id,
    COALESCE(state, 'pending') AS state, COUNT(*) AS devices
FROM release_devices WHERE release_id IN (SELECT id FROM rel) GROUP BY release_id, state) x;
SELECT row_to_json(x) FROM (SELECT 'reason' AS figure, release_id, reason, COUNT(*) AS devices
FROM release_devices WHERE state IN ('failed', 'rolled_back') AND release_id IN (SELECT id FROM rel)
GROUP BY release_id, reason) x;
-- The median offer-to-success time of each release follows, one pair of statements per
-- release (written by bench/stats.sh: LIMIT/OFFSET take no outer column).
