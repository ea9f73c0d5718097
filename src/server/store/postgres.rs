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

/// Connects to `url` (a `postgres://` URL) and migrates it. With `schema`, every connection
/// uses that schema (created when missing) instead of `public`: tests give each server one.
pub async fn open(url: &str, schema: Option<&str>) -> anyhow::Result<Pool> {
    let mut options = PgConnectOptions::from_str(url)
        .with_context(|| format!("`{}` is not a PostgreSQL URL", redact(url)))?;
    if let Some(schema) = schema {
        create_schema(&options, schema).await?;
        options = options.options([("search_path", schema)]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .with_context(|| format!("could not connect to PostgreSQL at `{}`", redact(url)))?;
    sqlx::migrate!("src/server/store/migrations/postgres")
        .run(&pool)
        .await
        .with_context(|| format!("could not migrate the database at `{}`", redact(url)))?;
    Ok(Pool::postgres(pool))
}

async fn create_schema(options: &PgConnectOptions, schema: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect_with(options)
        .await
        .context("could not connect to PostgreSQL")?;
    // Identifiers cannot be bound; the quotes keep any name one identifier.
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("could not create the schema `{schema}`"))?;
    conn.close().await.ok();
    Ok(())
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}
