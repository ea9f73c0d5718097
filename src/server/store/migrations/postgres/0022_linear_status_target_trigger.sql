-- The offers epoch's trigger on `device_status` (0020) asked whether an UPDATE changed any
-- device's reported target by joining the statement's old and new rows on the device ID
-- inside an EXISTS. PostgreSQL planned that join of two transition tables as a nested loop
-- (EXISTS wants its first row fast, and transition tables carry no statistics), so an UPDATE
-- of n status rows whose targets did not change cost n² comparisons: 16,000,000 for 4,000
-- rows, and a bulk cohort assign of 100,000 devices that had checked in (their status rows
-- move with them) ran for more than a quarter of an hour. As in 0018, a set difference asks
-- the same without a join: every device ID is once in each table, so some new row is not
-- among the old ones exactly when a target (or the ID itself) changed. EXCEPT compares NULLs
-- as equal, as IS DISTINCT FROM did.
CREATE OR REPLACE FUNCTION fleet_device_status_targets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM new_status WHERE reported_target IS NOT NULL) THEN
            UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
        END IF;
    ELSIF EXISTS (
        SELECT device_id, reported_target FROM new_status
        EXCEPT
        SELECT device_id, reported_target FROM old_status
    ) THEN
        UPDATE auth_epoch SET offers_epoch = offers_epoch + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;
