-- bench/stats.sh: the same figures from the raw tables, as the service computed them before
-- the summaries of migration 0013 (one pass over the product's devices and their status, one
-- over what they run, one over the releases' device rows), at @NOW@. -json: the script checks
-- the service's answer against these rows.
CREATE TEMP TABLE w AS SELECT
    strftime('%Y-%m-%dT%H:%M:%f+00:00', '@NOW@', '-600 seconds') AS online,
    strftime('%Y-%m-%dT%H:%M:%f+00:00', '@NOW@', '-3600 seconds') AS hour,
    strftime('%Y-%m-%dT%H:%M:%f+00:00', '@NOW@', '-86400 seconds') AS day,
    strftime('%Y-%m-%dT%H:%M:%f+00:00', '@NOW@', '-604800 seconds') AS week;
SELECT 'devices' AS figure, COUNT(*) AS total, SUM(d.cohort_id IS NULL) AS without_cohort,
    SUM(d.quarantined) AS quarantined, SUM(d.needs_provisioning) AS needs_provisioning,
    SUM(s.last_seen_at >= w.online) AS online, SUM(s.last_seen_at >= w.hour) AS seen_last_hour,
    SUM(s.last_seen_at >= w.day) AS seen_last_24h, SUM(s.last_seen_at >= w.week) AS seen_last_7d,
    SUM(s.device_id IS NULL) AS never_seen
FROM devices d LEFT JOIN device_status s ON s.device_id = d.id, w
WHERE d.product_id = '@PRODUCT@';
SELECT 'version' AS figure, r.artifact, r.version, COUNT(*) AS devices FROM devices d
JOIN device_running r ON r.device_id = d.id WHERE d.product_id = '@PRODUCT@'
GROUP BY r.artifact, r.version;
SELECT 'check_ins' AS figure, SUM(check_ins) AS n FROM check_in_hours
WHERE product_id = '@PRODUCT@' AND hour >= CAST(strftime('%s', '@NOW@') AS INTEGER) / 3600 - 23;
CREATE TEMP TABLE rel AS SELECT r.id FROM releases r WHERE r.product_id = '@PRODUCT@'
    AND r.id = (SELECT MAX(r2.id) FROM releases r2 WHERE r2.cohort_id = r.cohort_id);
SELECT 'state' AS figure, release_id, COALESCE(state, 'pending') AS state, COUNT(*) AS devices
FROM release_devices WHERE release_id IN (SELECT id FROM rel) GROUP BY release_id, state;
SELECT 'reason' AS figure, release_id, reason, COUNT(*) AS devices FROM release_devices
WHERE state IN ('failed', 'rolled_back') AND release_id IN (SELECT id FROM rel)
GROUP BY release_id, reason;
-- The median offer-to-success time of each release follows, one pair of statements per
-- release (written by bench/stats.sh: LIMIT/OFFSET take no outer column).
