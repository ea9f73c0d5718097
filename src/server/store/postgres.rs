//! Opening the PostgreSQL database of a scaled-out deployment: connecting, choosing the schema,
//! and applying the PostgreSQL migrations.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::Pool;

/// Connections per replica. Each request holds one for the duration of its statements; more
/// than a few per core only queue inside PostgreSQL instead of inside the replica.
const MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a free connection before it fails (503 to the client).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// A pooled connection idle at least this long is pinged before use; one used more recently
/// was pinged when it came back to the pool, moments ago. A connection that dies between the
/// two fails its request's statement (an error answer, not a hang) and is then discarded.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Connects to `url` (a `postgres://` URL) and migrates it. With `schema`, every connection
/// uses that schema (created when missing) instead of `public`: tests give each server one.
pub async fn open(url: &str, schema: Option<&str>) -> anyhow::Result<Pool> {
    let mut options = PgConnectOptions::from_str(url)
        .with_context(|| format!("`{}` is not a PostgreSQL URL", redact(url)))?;
    // One plain connection first: the pool would retry a refused connection until its
    // acquire timeout, while an unreachable server or wrong password should fail at once.
    probe(&options, schema)
        .await
        .with_context(|| format!("could not connect to PostgreSQL at `{}`", redact(url)))?;
    if let Some(schema) = schema {
        options = options.options([("search_path", schema)]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // sqlx pings every pooled connection before handing it out, and again as it comes
        // back: two extra round trips for every request's statements. The ping on return
        // stays (sqlx makes it); the one before use only for a connection that sat idle long
        // enough for the server or the network to have dropped it since that last ping.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("could not connect to PostgreSQL at `{}`", redact(url)))?;
    sqlx::migrate!("src/server/store/migrations/postgres")
        .run(&pool)
        .await
        .with_context(|| format!("could not migrate the database at `{}`", redact(url)))?;
    Ok(Pool::postgres(pool))
}

/// Connects once, and creates `schema` when asked for one.
async fn probe(options: &PgConnectOptions, schema: Option<&str>) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect_with(options).await?;
    if let Some(schema) = schema {
        // Identifiers cannot be bound; the quotes keep any name one identifier.
        let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
            .execute(&mut conn)
            .await
            .with_context(|| format!("could not create the schema `{schema}`"))?;
    }
    conn.close().await.ok();
    Ok(())
}

/// The URL without its password (in the user part or as `?password=…`), for messages and logs.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return "<unparsable URL>".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::redact;
    use crate::server::store::{Backend, query, test_pools};

    /// Migration 0023 split `devices` in two: a database from before it keeps every device,
    /// its details, its counts and the rows that reference it.
    #[tokio::test]
    async fn the_device_split_keeps_every_device_and_the_rows_that_reference_it() {
        use std::borrow::Cow;
        use std::io::Write as _;
        use std::str::FromStr as _;

        use sqlx::migrate::Migrator;
        use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

        let Some(url) = std::env::var("FLEET_TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: the PostgreSQL upgrade test (FLEET_TEST_DATABASE_URL is not set)"
            );
            return;
        };
        let schema = format!("u_{}", uuid::Uuid::now_v7().simple());
        let options = PgConnectOptions::from_str(&url).expect("URL");
        super::probe(&options, Some(&schema)).await.expect("schema");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.options([("search_path", schema.as_str())]))
            .await
            .expect("connect");
        let all = sqlx::migrate!("src/server/store/migrations/postgres");
        let split = all
            .iter()
            .position(|m| m.description.contains("narrow devices"))
            .expect("migration 0023");
        let before = Migrator {
            migrations: Cow::Owned(all.migrations[..split].to_vec()),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        };
        before
            .run(&pool)
            .await
            .expect("the migrations before the split");
        let at = "2026-01-02T03:04:05+00:00";
        sqlx::raw_sql(&test_pools::before_the_device_split(at))
            .execute(&pool)
            .await
            .expect("seed");

        all.run(&pool).await.expect("migrate");

        let details: (String, String, String, Option<String>, String) = sqlx::query_as(
            "SELECT identifier, description, tags, target, to_char(created_at AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS') FROM device_details WHERE device_id = 'd1'",
        )
        .fetch_one(&pool)
        .await
        .expect("d1's details");
        assert_eq!(
            details,
            (
                "sn-1".to_owned(),
                "first".to_owned(),
                "[\"a:b\"]".to_owned(),
                Some("arm".to_owned()),
                "2026-01-02T03:04:05".to_owned()
            )
        );
        let device: (Option<String>, bool, i64, bool) = sqlx::query_as(
            "SELECT cohort_id, quarantined, revision, needs_provisioning FROM devices \
             WHERE id = 'd1'",
        )
        .fetch_one(&pool)
        .await
        .expect("d1");
        assert_eq!(device, (Some("c".to_owned()), true, 7, true));
        let count = |sql: &'static str| {
            let pool = pool.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.expect(sql);
                n
            }
        };
        assert_eq!(count("SELECT COUNT(*) FROM device_records").await, 2);
        assert_eq!(count("SELECT COUNT(*) FROM device_status").await, 1);
        assert_eq!(
            count("SELECT SUM(devices)::bigint FROM device_counts").await,
            2
        );
        assert_eq!(
            count("SELECT SUM(quarantined)::bigint FROM device_counts").await,
            1
        );
        sqlx::query("DELETE FROM devices WHERE id = 'd1'")
            .execute(&pool)
            .await
            .expect("delete");
        assert_eq!(count("SELECT COUNT(*) FROM device_details").await, 1);
        assert_eq!(count("SELECT COUNT(*) FROM device_status").await, 0);
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&pool)
            .await
            .expect("drop the schema");
    }

    /// No statement trigger compares its old and new rows by joining the two transition tables:
    /// PostgreSQL plans such a join as a nested loop (the tables have no statistics), so a bulk
    /// UPDATE of n rows costs n² comparisons (migrations 0018 and 0022, bench/RESULTS.md).
    /// Set differences (EXCEPT) and signed sums compare them without a plan choice.
    #[tokio::test]
    async fn no_trigger_joins_its_old_rows_to_its_new_rows() {
        for (_guard, pool) in test_pools::all().await {
            let mut conn = pool.acquire().await.expect("acquire");
            if conn.backend() != Backend::Postgres {
                continue;
            }
            let triggers: Vec<(String, String, String, String)> = query(
                "SELECT t.tgname::text, t.tgoldtable::text, t.tgnewtable::text, p.prosrc \
                 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid \
                 JOIN pg_class c ON c.oid = t.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() \
                 AND t.tgoldtable IS NOT NULL AND t.tgnewtable IS NOT NULL",
            )
            .fetch_all(&mut conn)
            .await
            .expect("read the triggers");
            // devices (auth epoch and counts, key checks), device_status, device_running, ...
            assert!(
                triggers.len() >= 4,
                "expected the statement triggers with both transition tables, found {triggers:?}"
            );
            for (name, old, new, source) in triggers {
                for (a, b) in [(&old, &new), (&new, &old)] {
                    // `a x JOIN b`, `a JOIN b`, `a x, b`: the forms a join of the two takes.
                    let join = regex::Regex::new(&format!(
                        r"(?i)\b{a}\b(\s+(as\s+)?\w+)?\s*(,|\bjoin\b)\s*{b}\b"
                    ))
                    .expect("regex");
                    assert!(
                        !join.is_match(&source),
                        "trigger {name} joins {a} to {b}; compare them with EXCEPT instead"
                    );
                }
            }
        }
    }

    #[test]
    fn redact_hides_the_password_wherever_the_url_carries_it() {
        assert_eq!(
            redact("postgres://fleet:s3cret@db:5432/fleet"),
            "postgres://fleet:***@db:5432/fleet"
        );
        let redacted = redact("postgres://fleet@db/fleet?sslmode=require&password=s3cret");
        assert!(!redacted.contains("s3cret"), "{redacted}");
        assert!(redacted.contains("sslmode=require"), "{redacted}");
        assert_eq!(redact("postgres://db/fleet"), "postgres://db/fleet");
        assert_eq!(redact("not a url"), "<unparsable URL>");
    }
}
