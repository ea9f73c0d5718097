-- Offer-to-success times per release, counted in buckets, so the median time of a release
-- (`GET …/stats`) is found by summing a few hundred bucket counts and then walking the one
-- bucket that holds the middle through `release_devices_success`, instead of counting and
-- walking half of the release's devices. Kept exact by the triggers below, like the
-- summaries of migration 0013 (and, like them, left to the target's triggers by `fleet server
-- migrate`).
--
-- A bucket is a time rounded down to two significant digits (0–99 ms exactly, then 100, 110,
-- …, 990, 1000, 1100, …): at most 90 buckets per power of ten, each at most 10 % wide. The same
-- expression on both databases (migrations/postgres/0017_success_times.sql).
CREATE TABLE release_success_times (
    release_id  TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    -- The lowest time the bucket holds, in milliseconds.
    bucket_ms   BIGINT NOT NULL,
    devices     BIGINT NOT NULL,
    PRIMARY KEY (release_id, bucket_ms)
);

INSERT INTO release_success_times (release_id, bucket_ms, devices)
SELECT release_id, CASE WHEN offer_to_success_ms < 100 THEN offer_to_success_ms
    ELSE CAST(substr(CAST(offer_to_success_ms AS TEXT), 1, 2)
        || substr('0000000000000000000', 1, length(CAST(offer_to_success_ms AS TEXT)) - 2)
        AS BIGINT) END, COUNT(*)
FROM release_devices WHERE offer_to_success_ms IS NOT NULL GROUP BY 1, 2;

CREATE TRIGGER release_devices_timed AFTER INSERT ON release_devices
WHEN NEW.offer_to_success_ms IS NOT NULL
BEGIN
    INSERT INTO release_success_times (release_id, bucket_ms, devices)
    VALUES (NEW.release_id, CASE WHEN NEW.offer_to_success_ms < 100 THEN NEW.offer_to_success_ms
        ELSE CAST(substr(CAST(NEW.offer_to_success_ms AS TEXT), 1, 2)
            || substr('0000000000000000000', 1, length(CAST(NEW.offer_to_success_ms AS TEXT)) - 2)
            AS BIGINT) END, 1)
    ON CONFLICT (release_id, bucket_ms) DO UPDATE SET
        devices = release_success_times.devices + 1;
END;

CREATE TRIGGER release_devices_retimed AFTER UPDATE OF release_id, offer_to_success_ms
ON release_devices
WHEN OLD.release_id IS NOT NEW.release_id
    OR OLD.offer_to_success_ms IS NOT NEW.offer_to_success_ms
BEGIN
    UPDATE release_success_times SET devices = devices - 1
    WHERE OLD.offer_to_success_ms IS NOT NULL AND release_id = OLD.release_id
        AND bucket_ms = CASE WHEN OLD.offer_to_success_ms < 100 THEN OLD.offer_to_success_ms
            ELSE CAST(substr(CAST(OLD.offer_to_success_ms AS TEXT), 1, 2)
                || substr('0000000000000000000', 1,
                    length(CAST(OLD.offer_to_success_ms AS TEXT)) - 2) AS BIGINT) END;
    INSERT INTO release_success_times (release_id, bucket_ms, devices)
    SELECT NEW.release_id, CASE WHEN NEW.offer_to_success_ms < 100 THEN NEW.offer_to_success_ms
        ELSE CAST(substr(CAST(NEW.offer_to_success_ms AS TEXT), 1, 2)
            || substr('0000000000000000000', 1, length(CAST(NEW.offer_to_success_ms AS TEXT)) - 2)
            AS BIGINT) END, 1
    WHERE NEW.offer_to_success_ms IS NOT NULL
    ON CONFLICT (release_id, bucket_ms) DO UPDATE SET
        devices = release_success_times.devices + 1;
END;

CREATE TRIGGER release_devices_untimed AFTER DELETE ON release_devices
WHEN OLD.offer_to_success_ms IS NOT NULL
BEGIN
    UPDATE release_success_times SET devices = devices - 1
    WHERE release_id = OLD.release_id
        AND bucket_ms = CASE WHEN OLD.offer_to_success_ms < 100 THEN OLD.offer_to_success_ms
            ELSE CAST(substr(CAST(OLD.offer_to_success_ms AS TEXT), 1, 2)
                || substr('0000000000000000000', 1,
                    length(CAST(OLD.offer_to_success_ms AS TEXT)) - 2) AS BIGINT) END;
END;
