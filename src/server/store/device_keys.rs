//! Tests of the database's own guard on a device's product and cohort, on both backends:
//! SQLite's foreign keys, and PostgreSQL's per-statement checks that replaced them (migration
//! 0021), including the lock that keeps a concurrent delete from leaving a device behind.

use sqlx::error::ErrorKind;

use super::test_pools::{self, execute as run, seed_org_and_products};
use super::{Pool, begin_write, now, query};

/// Products `p` and `q` with cohorts `cp` (of `p`) and `cq` (of `q`), device `d1` in `p`/`cp`
/// and device `d2` in `q` with no cohort.
async fn seed(pool: &Pool) {
    seed_org_and_products(pool).await;
    let at = now().to_rfc3339();
    run(
        pool,
        &format!(
            "INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at) \
             VALUES ('cp', 'o', 'p', 'cp', '{at}', '{at}'), ('cq', 'o', 'q', 'cq', '{at}', '{at}')"
        ),
    )
    .await;
    run(pool, &device("d1", "p", Some("cp"))).await;
    run(pool, &details("d1")).await;
    run(pool, &device("d2", "q", None)).await;
    run(pool, &details("d2")).await;
}

/// The `devices` row alone: the guard under test is on that table.
fn device(id: &str, product: &str, cohort: Option<&str>) -> String {
    let at = now().to_rfc3339();
    let cohort = cohort.map_or("NULL".to_owned(), |c| format!("'{c}'"));
    format!(
        "INSERT INTO devices (id, org_id, product_id, cohort_id, updated_at) \
         VALUES ('{id}', 'o', '{product}', {cohort}, '{at}')"
    )
}

fn details(id: &str) -> String {
    let at = now().to_rfc3339();
    format!(
        "INSERT INTO device_details (device_id, org_id, identifier, created_at) \
         VALUES ('{id}', 'o', 'sn-{id}', '{at}')"
    )
}

/// Runs `sql` in a write transaction; true when the database refused it as a foreign key
/// violation (the transaction is rolled back), false when it committed. Any other error fails.
async fn refused(pool: &Pool, sql: &str) -> bool {
    let mut tx = begin_write(pool).await.expect("begin");
    match query(sql).execute(&mut tx).await {
        Ok(_) => {
            tx.commit().await.expect("commit");
            false
        }
        Err(err) => {
            let kind = err.as_database_error().map(|db| db.kind());
            assert!(
                matches!(kind, Some(ErrorKind::ForeignKeyViolation)),
                "{sql}: expected a foreign key violation, got {err}"
            );
            true
        }
    }
}

async fn placement(pool: &Pool, id: &str) -> (String, Option<String>) {
    query("SELECT product_id, cohort_id FROM devices WHERE id = $1")
        .bind(id)
        .fetch_one(&mut pool.acquire().await.expect("acquire"))
        .await
        .expect("device")
}

#[tokio::test]
async fn a_device_points_at_an_existing_product_and_a_cohort_of_that_product() {
    for (_guard, pool) in test_pools::all().await {
        seed(&pool).await;
        assert!(refused(&pool, &device("d3", "p", Some("cq"))).await);
        assert!(refused(&pool, &device("d3", "nope", None)).await);
        assert!(refused(&pool, &device("d3", "p", Some("nope"))).await);
        assert!(!refused(&pool, &device("d3", "p", Some("cp"))).await);
        run(&pool, &details("d3")).await;

        assert!(refused(&pool, "UPDATE devices SET cohort_id = 'cq' WHERE id = 'd1'").await);
        assert!(refused(&pool, "UPDATE devices SET product_id = 'q' WHERE id = 'd1'").await);
        assert!(
            refused(
                &pool,
                "UPDATE devices SET product_id = 'nope' WHERE id = 'd2'"
            )
            .await
        );
        // One bad row refuses the whole statement: d2 would have joined a cohort of another
        // product, so d1 and d3 stay where they were too.
        assert!(refused(&pool, "UPDATE devices SET cohort_id = 'cp'").await);
        assert_eq!(placement(&pool, "d2").await, ("q".to_owned(), None));
        assert!(
            !refused(
                &pool,
                "UPDATE devices SET product_id = 'q', cohort_id = 'cq' WHERE id = 'd1'"
            )
            .await
        );
        assert_eq!(
            placement(&pool, "d1").await,
            ("q".to_owned(), Some("cq".to_owned()))
        );
        // A write that leaves the keys alone is not checked against them.
        assert!(!refused(&pool, "UPDATE devices SET needs_provisioning = TRUE").await);
    }
}

#[tokio::test]
async fn a_product_or_cohort_with_devices_keeps_its_key_and_cannot_be_deleted() {
    for (_guard, pool) in test_pools::all().await {
        seed(&pool).await;
        assert!(refused(&pool, "DELETE FROM cohorts WHERE id = 'cp'").await);
        assert!(refused(&pool, "UPDATE cohorts SET id = 'cp2' WHERE id = 'cp'").await);
        assert!(refused(&pool, "DELETE FROM products WHERE id = 'q'").await);
        assert!(refused(&pool, "UPDATE products SET id = 'q2' WHERE id = 'q'").await);
        // Renames are not key changes.
        assert!(!refused(&pool, "UPDATE cohorts SET name = 'renamed' WHERE id = 'cp'").await);
        assert!(!refused(&pool, "UPDATE products SET name = 'renamed' WHERE id = 'q'").await);
        // Once its devices are gone, each can go.
        assert!(!refused(&pool, "UPDATE devices SET cohort_id = NULL WHERE id = 'd1'").await);
        assert!(!refused(&pool, "DELETE FROM cohorts WHERE id = 'cp'").await);
        assert!(!refused(&pool, "DELETE FROM devices WHERE id = 'd2'").await);
        assert!(!refused(&pool, "DELETE FROM cohorts WHERE id = 'cq'").await);
        assert!(!refused(&pool, "DELETE FROM products WHERE id = 'q'").await);
    }
}

/// PostgreSQL: two transactions outside the service's write lock (as any other client of the
/// database would be), one deleting a cohort and one putting a device into it. Whichever
/// writes first, the second waits for it and is refused; no device is left in a deleted cohort.
#[tokio::test]
async fn a_cohort_deleted_while_a_device_joins_it_leaves_no_device_behind() {
    for (_guard, pool) in test_pools::all().await {
        let Some(pg) = pool.postgres_pool() else {
            continue;
        };
        seed(&pool).await;
        let delete = "DELETE FROM cohorts WHERE id = 'cq'";
        let join = "UPDATE devices SET cohort_id = 'cq' WHERE id = 'd2'";
        for (first, second) in [(delete, join), (join, delete)] {
            let mut holder = pg.begin().await.expect("begin");
            sqlx::query(first)
                .execute(&mut *holder)
                .await
                .expect("first");
            let waiter = {
                let pg = pg.clone();
                tokio::spawn(async move {
                    let mut tx = pg.begin().await.expect("begin");
                    let result = sqlx::query(second).execute(&mut *tx).await;
                    if result.is_ok() {
                        tx.commit().await.expect("commit");
                    }
                    result
                })
            };
            // The second statement must wait for the first transaction (for the cohort's row
            // lock, or for the epoch row both statements bump); had it gone ahead it would
            // have finished on its own by now or soon.
            while !waiter.is_finished() && !waiting_for_a_lock(pg, second).await {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert!(
                !waiter.is_finished(),
                "`{second}` did not wait for `{first}`"
            );
            holder.commit().await.expect("commit");
            let err = waiter
                .await
                .expect("join")
                .expect_err("the second statement is refused");
            assert!(
                matches!(
                    err.as_database_error().map(|db| db.kind()),
                    Some(ErrorKind::ForeignKeyViolation)
                ),
                "`{second}` after `{first}`: {err}"
            );
            // Put the first statement's change back for the other order.
            if first == delete {
                let at = now().to_rfc3339();
                run(
                    &pool,
                    &format!(
                        "INSERT INTO cohorts (id, org_id, product_id, name, created_at, \
                         updated_at) VALUES ('cq', 'o', 'q', 'cq', '{at}', '{at}')"
                    ),
                )
                .await;
            }
        }
        assert_eq!(
            placement(&pool, "d2").await,
            ("q".to_owned(), Some("cq".to_owned()))
        );
    }
}

async fn waiting_for_a_lock(pg: &sqlx::PgPool, statement: &str) -> bool {
    let (waiting,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity \
         WHERE wait_event_type = 'Lock' AND query = $1)",
    )
    .bind(statement)
    .fetch_one(pg)
    .await
    .expect("pg_stat_activity");
    waiting
}
