-- bench/stats.sh: hand.sqlite.sql for psql: the figures of `fleet product stats` from the
-- summaries the service reads, at the moment @NOW@.
-- One transaction, rolled back at the end (bench/stats.sh adds the ROLLBACK): the temporary
-- tables cost no commit.
BEGIN;
CREATE TEMP TABLE w AS SELECT n, t, date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start,
    floor(extract(epoch FROM t) / 3600)::BIGINT AS h
FROM (SELECT n, '@NOW@'::timestamptz - make_interval(secs => s) AS t
    FROM (VALUES (1, 600), (2, 3600), (3, 86400), (4, 604800)) v (n, s)) x;
SELECT cohort_id, devices, quarantined, needs_provisioning FROM device_counts
WHERE devices > 0 AND product_id = '@PRODUCT@';
SELECT id, name FROM cohorts WHERE product_id = '@PRODUCT@' ORDER BY name COLLATE "C";
SELECT SUM(devices) FROM seen_hours WHERE product_id = '@PRODUCT@';
SELECT w.n, (SELECT SUM(devices) FROM seen_hours WHERE product_id = '@PRODUCT@' AND hour >= w.h)
    - (SELECT COUNT(*) FROM device_status WHERE product_id = '@PRODUCT@'
        AND cohort_id IN (SELECT cohort_id FROM device_counts
            WHERE product_id = '@PRODUCT@' AND devices > 0)
        AND last_seen_at >= w.start AND last_seen_at < w.t)
FROM w;
SELECT hour, SUM(check_ins) FROM check_in_hours WHERE product_id = '@PRODUCT@'
    AND hour >= floor(extract(epoch FROM '@NOW@'::timestamptz) / 3600)::BIGINT - 23 GROUP BY hour;
SELECT artifact, version, SUM(devices) FROM version_counts
WHERE devices > 0 AND product_id = '@PRODUCT@' GROUP BY artifact, version;
CREATE TEMP TABLE rel AS SELECT r.id FROM releases r WHERE r.product_id = '@PRODUCT@'
    AND r.id = (SELECT MAX(r2.id) FROM releases r2 WHERE r2.cohort_id = r.cohort_id);
SELECT r.id, c.name, b.name, r.rollout_percent, r.required FROM releases r
JOIN cohorts c ON c.id = r.cohort_id JOIN bundles b ON b.id = r.bundle_id
WHERE r.id IN (SELECT id FROM rel) ORDER BY r.id DESC;
SELECT release_id, state, SUM(devices) FROM release_states
WHERE devices > 0 AND release_id IN (SELECT id FROM rel) GROUP BY release_id, state;
SELECT release_id, reason_given, reason, SUM(devices) FROM release_states
WHERE devices > 0 AND state IN ('failed', 'rolled_back') AND release_id IN (SELECT id FROM rel)
GROUP BY release_id, reason_given, reason;
-- The median offer-to-success time of each release follows, one pair of statements per
-- release (written by bench/stats.sh: LIMIT/OFFSET take no outer column).
