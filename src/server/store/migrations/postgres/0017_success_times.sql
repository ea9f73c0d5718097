-- Offer-to-success times per release, counted in buckets, so the median time of a release
-- (`GET …/stats`) is found by summing a few hundred bucket counts and then walking the one
-- bucket that holds the middle through `release_devices_success`, instead of counting and
-- walking half of the release's devices. Kept exact by the trigger below, like the summaries
-- of migration 0013 (and, like them, left to the target's triggers by `fleet server migrate`).
--
-- A bucket is a time rounded down to two significant digits (0–99 ms exactly, then 100, 110,
-- …, 990, 1000, 1100, …): at most 90 buckets per power of ten, each at most 10 % wide. The same
-- expression as on SQLite (migrations/sqlite/0017_success_times.sql).
CREATE TABLE release_success_times (
    release_id  TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    -- The lowest time the bucket holds, in milliseconds.
    bucket_ms   BIGINT NOT NULL,
    devices     BIGINT NOT NULL,
    PRIMARY KEY (release_id, bucket_ms)
);

CREATE FUNCTION fleet_success_bucket(ms BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT CASE WHEN ms < 100 THEN ms
    ELSE CAST(substr(CAST(ms AS TEXT), 1, 2)
        || substr('0000000000000000000', 1, length(CAST(ms AS TEXT)) - 2) AS BIGINT) END $$;

INSERT INTO release_success_times (release_id, bucket_ms, devices)
SELECT release_id, fleet_success_bucket(offer_to_success_ms), COUNT(*)
FROM release_devices WHERE offer_to_success_ms IS NOT NULL GROUP BY 1, 2;

CREATE FUNCTION fleet_count_success_times() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO release_success_times AS t (release_id, bucket_ms, devices)
        SELECT release_id, fleet_success_bucket(offer_to_success_ms), COUNT(*)
        FROM new_release_devices WHERE offer_to_success_ms IS NOT NULL GROUP BY 1, 2
        ON CONFLICT (release_id, bucket_ms) DO UPDATE SET devices = t.devices + excluded.devices;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE release_success_times t SET devices = t.devices - o.devices
        FROM (SELECT release_id, fleet_success_bucket(offer_to_success_ms) AS bucket_ms,
                COUNT(*) AS devices
            FROM old_release_devices WHERE offer_to_success_ms IS NOT NULL GROUP BY 1, 2) o
        WHERE t.release_id = o.release_id AND t.bucket_ms = o.bucket_ms;
    ELSE
        INSERT INTO release_success_times AS t (release_id, bucket_ms, devices)
        SELECT release_id, fleet_success_bucket(offer_to_success_ms), SUM(devices)
        FROM (
            SELECT release_id, offer_to_success_ms, 1 AS devices FROM new_release_devices
            WHERE offer_to_success_ms IS NOT NULL
            UNION ALL
            SELECT release_id, offer_to_success_ms, -1 FROM old_release_devices
            WHERE offer_to_success_ms IS NOT NULL
        ) delta GROUP BY 1, 2 HAVING SUM(devices) <> 0
        ON CONFLICT (release_id, bucket_ms) DO UPDATE SET devices = t.devices + excluded.devices;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER release_devices_timed AFTER INSERT ON release_devices
REFERENCING NEW TABLE AS new_release_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_success_times();
CREATE TRIGGER release_devices_retimed AFTER UPDATE ON release_devices
REFERENCING OLD TABLE AS old_release_devices NEW TABLE AS new_release_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_success_times();
CREATE TRIGGER release_devices_untimed AFTER DELETE ON release_devices
REFERENCING OLD TABLE AS old_release_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_count_success_times();
