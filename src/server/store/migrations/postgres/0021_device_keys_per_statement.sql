-- A device's product and cohort, checked once per statement instead of once per row.
--
-- The foreign keys `devices (product_id) -> products` and `devices (cohort_id, product_id) ->
-- cohorts (id, product_id)` ran one referential check (an index lookup and a row lock) per row
-- whose key changed: 0.4-1.1 s of a bulk move or cohort assign of 100,000 devices, for the one
-- or two distinct keys such a statement writes (bench/RESULTS.md). The triggers below keep the
-- same rules with the same locks, per distinct key:
--   * every product a statement's devices point at exists, and every cohort exists in the
--     device's own product (NULL cohort: nothing to check, as MATCH SIMPLE had it);
--   * each checked product or cohort row is locked FOR KEY SHARE, as a foreign key locks it,
--     so it cannot be deleted before the writing transaction ends; a row deleted by a
--     transaction that commits first is skipped by the lock and then missing from the check;
--   * an UPDATE checks only the (product, cohort) pairs its old rows did not already hold,
--     as a foreign key skips an unchanged key (a check-in's update locks nothing);
--   * a product or cohort that devices still point at cannot be deleted, nor its key
--     changed: a row trigger on their side, whose query (READ COMMITTED, a fresh snapshot
--     per statement) sees a device committed by a writer it waited for.
-- Errors keep the foreign keys' SQLSTATE (23503) and constraint names.
-- SQLite keeps its foreign keys: its checks are in-process lookups, not what a bulk write
-- waits on there.

ALTER TABLE devices DROP CONSTRAINT devices_product_id_fkey;
ALTER TABLE devices DROP CONSTRAINT devices_cohort_id_product_id_fkey;

CREATE FUNCTION fleet_check_device_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    product_ids TEXT[];
    cohort_ids TEXT[];
    bad_product TEXT;
    bad_cohort TEXT;
    bad_cohort_product TEXT;
BEGIN
    -- Two parallel arrays, one element per distinct (product, cohort) pair written.
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(product_id), array_agg(cohort_id)
        INTO product_ids, cohort_ids
        FROM (
            SELECT DISTINCT product_id, cohort_id FROM new_devices
            EXCEPT
            SELECT DISTINCT product_id, cohort_id FROM old_devices
        ) k;
    ELSE
        SELECT array_agg(product_id), array_agg(cohort_id)
        INTO product_ids, cohort_ids
        FROM (SELECT DISTINCT product_id, cohort_id FROM new_devices) k;
    END IF;
    IF product_ids IS NULL THEN
        RETURN NULL;
    END IF;

    PERFORM 1 FROM products p WHERE p.id = ANY (product_ids) FOR KEY SHARE;
    SELECT k.id INTO bad_product FROM unnest(product_ids) AS k (id)
    WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.id = k.id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "devices" violates foreign key constraint "devices_product_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'devices',
                CONSTRAINT = 'devices_product_id_fkey',
                DETAIL = format('Key (product_id)=(%s) is not present in table "products".',
                    bad_product);
    END IF;

    PERFORM 1 FROM cohorts c, unnest(cohort_ids, product_ids) AS k (id, product_id)
    WHERE c.id = k.id AND c.product_id = k.product_id FOR KEY SHARE OF c;
    SELECT k.id, k.product_id INTO bad_cohort, bad_cohort_product
    FROM unnest(cohort_ids, product_ids) AS k (id, product_id)
    WHERE k.id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM cohorts c WHERE c.id = k.id AND c.product_id = k.product_id
    ) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "devices" violates foreign key constraint "devices_cohort_id_product_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'devices',
                CONSTRAINT = 'devices_cohort_id_product_id_fkey',
                DETAIL = format('Key (cohort_id, product_id)=(%s, %s) is not present in table "cohorts".',
                    bad_cohort, bad_cohort_product);
    END IF;
    RETURN NULL;
END
$$;

-- Named to sort before devices_counted and devices_updated: statement triggers fire in name
-- order, and the counts' upsert should never be the first to meet a missing product.
CREATE TRIGGER devices_checked_on_insert AFTER INSERT ON devices
REFERENCING NEW TABLE AS new_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_check_device_keys();

CREATE TRIGGER devices_checked_on_update AFTER UPDATE ON devices
REFERENCING OLD TABLE AS old_devices NEW TABLE AS new_devices
FOR EACH STATEMENT EXECUTE FUNCTION fleet_check_device_keys();

CREATE FUNCTION fleet_refuse_product_with_devices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM devices d WHERE d.product_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "products" violates foreign key constraint "devices_product_id_fkey" on table "devices"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'devices',
                CONSTRAINT = 'devices_product_id_fkey',
                DETAIL = format('Key (id)=(%s) is still referenced from table "devices".', OLD.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER products_deleted_checked AFTER DELETE ON products
FOR EACH ROW EXECUTE FUNCTION fleet_refuse_product_with_devices();
CREATE TRIGGER products_rekeyed_checked AFTER UPDATE OF id ON products
FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
EXECUTE FUNCTION fleet_refuse_product_with_devices();

CREATE FUNCTION fleet_refuse_cohort_with_devices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM devices d WHERE d.cohort_id = OLD.id AND d.product_id = OLD.product_id
    ) THEN
        RAISE EXCEPTION 'update or delete on table "cohorts" violates foreign key constraint "devices_cohort_id_product_id_fkey" on table "devices"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'devices',
                CONSTRAINT = 'devices_cohort_id_product_id_fkey',
                DETAIL = format('Key (id, product_id)=(%s, %s) is still referenced from table "devices".',
                    OLD.id, OLD.product_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER cohorts_deleted_checked AFTER DELETE ON cohorts
FOR EACH ROW EXECUTE FUNCTION fleet_refuse_cohort_with_devices();
CREATE TRIGGER cohorts_rekeyed_checked AFTER UPDATE OF id, product_id ON cohorts
FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.product_id IS DISTINCT FROM NEW.product_id)
EXECUTE FUNCTION fleet_refuse_cohort_with_devices();
