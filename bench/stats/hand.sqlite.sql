-- bench/stats.sh: the figures of `fleet product stats` by hand in sqlite3, from the same
-- summaries the service reads (migration 0013), at the moment @NOW@ (RFC 3339, UTC).
CREATE TEMP TABLE w AS SELECT n, t, substr(t, 1, 13) || ':00:00+00:00' AS start,
    CAST(strftime('%s', substr(t, 1, 13) || ':00:00') AS INTEGER) / 3600 AS h
FROM (SELECT n, strftime('%Y-%m-%dT%H:%M:%f+00:00', '@NOW@', printf('-%d seconds', s)) AS t
    FROM (SELECT 1 AS n, 600 AS s UNION ALL SELECT 2, 3600 UNION ALL SELECT 3, 86400
        UNION ALL SELECT 4, 604800));
SELECT cohort_id, devices, quarantined, needs_provisioning FROM device_counts
WHERE devices > 0 AND product_id = '@PRODUCT@';
SELECT id, name FROM cohorts WHERE product_id = '@PRODUCT@' ORDER BY name;
SELECT SUM(devices) FROM seen_hours WHERE product_id = '@PRODUCT@';
SELECT w.n, (SELECT SUM(devices) FROM seen_hours WHERE product_id = '@PRODUCT@' AND hour >= w.h)
    - (SELECT COUNT(*) FROM device_status WHERE product_id = '@PRODUCT@'
        AND cohort_id IN (SELECT cohort_id FROM device_counts
            WHERE product_id = '@PRODUCT@' AND devices > 0)
        AND last_seen_at >= w.start AND last_seen_at < w.t)
FROM w;
SELECT hour, SUM(check_ins) FROM check_in_hours WHERE product_id = '@PRODUCT@'
    AND hour >= CAST(strftime('%s', '@NOW@') AS INTEGER) / 3600 - 23 GROUP BY hour;
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
