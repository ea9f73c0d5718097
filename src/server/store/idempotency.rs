//! Idempotency keys: the first request with a key claims it, its response is stored, and a retry
//! with the same key and request gets that response back. A claim whose request never finished
//! (its replica died, or could not store the response) can be retaken once it is old enough.

use chrono::{DateTime, Utc};

use super::{Pool, begin_write, query};
use crate::api::OrgId;

/// What a write with an `Idempotency-Key` should do.
pub enum Claim {
    /// First use of the key (or a retaken abandoned claim): run the request, then `complete`
    /// (or `release` on failure) with the claim's time.
    Fresh,
    /// The same request ran before: send this response again.
    Replay {
        status: u16,
        headers: String,
        body: Vec<u8>,
    },
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key has not finished yet.
    InProgress,
}

#[derive(sqlx::FromRow)]
struct Stored {
    request_hash: String,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
}

/// When and how old claims give way.
#[derive(Debug, Clone, Copy)]
pub struct ClaimTimes {
    /// The time of this claim; `complete` and `release` name the claim by it.
    pub now: DateTime<Utc>,
    /// Records created before this are dropped: the key may be reused.
    pub expired_before: DateTime<Utc>,
    /// A claim without a response created at or before this is abandoned: the same request may
    /// retake it.
    pub abandoned_before: DateTime<Utc>,
}

/// Claims `key` for a request hashing to `request_hash` at `times.now`. Records older than
/// `times.expired_before` are dropped first, so a key can be reused after its retention window.
pub async fn claim(
    pool: &Pool,
    org_id: &OrgId,
    key: &str,
    request_hash: &str,
    times: ClaimTimes,
) -> sqlx::Result<Claim> {
    let mut tx = begin_write(pool).await?;
    query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(times.expired_before)
        .execute(&mut tx)
        .await?;
    let existing: Option<Stored> = query(
        "SELECT request_hash, status, headers, body, created_at FROM idempotency_keys \
         WHERE org_id = $1 AND key = $2",
    )
    .bind(org_id.as_str())
    .bind(key)
    .fetch_optional(&mut tx)
    .await?;
    let claim = match existing {
        Some(stored) if stored.request_hash != request_hash => Claim::Mismatch,
        Some(Stored {
            status: Some(status),
            headers,
            body,
            ..
        }) => Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            headers: headers.unwrap_or_default(),
            body: body.unwrap_or_default(),
        },
        Some(stored) if stored.created_at > times.abandoned_before => Claim::InProgress,
        Some(_) => {
            // Abandoned: the request runs again, and the old claim, should it still finish,
            // no longer names the record.
            query("UPDATE idempotency_keys SET created_at = $1 WHERE org_id = $2 AND key = $3")
                .bind(times.now)
                .bind(org_id.as_str())
                .bind(key)
                .execute(&mut tx)
                .await?;
            Claim::Fresh
        }
        None => {
            query(
                "INSERT INTO idempotency_keys (org_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(org_id.as_str())
            .bind(key)
            .bind(request_hash)
            .bind(times.now)
            .execute(&mut tx)
            .await?;
            Claim::Fresh
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Stores the response of the request that claimed `key` at `claimed_at` (unless its claim was
/// retaken meanwhile).
pub async fn complete(
    pool: &Pool,
    org_id: &OrgId,
    key: &str,
    claimed_at: DateTime<Utc>,
    status: u16,
    headers: &str,
    body: &[u8],
) -> sqlx::Result<()> {
    query(
        "UPDATE idempotency_keys SET status = $1, headers = $2, body = $3 \
         WHERE org_id = $4 AND key = $5 AND created_at = $6 AND status IS NULL",
    )
    .bind(i64::from(status))
    .bind(headers)
    .bind(body)
    .bind(org_id.as_str())
    .bind(key)
    .bind(claimed_at)
    .execute(&mut pool.acquire_writer().await?)
    .await?;
    Ok(())
}

/// Gives up the claim of `key` made at `claimed_at` after a failure the client should be able
/// to retry (a 5xx).
pub async fn release(
    pool: &Pool,
    org_id: &OrgId,
    key: &str,
    claimed_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "DELETE FROM idempotency_keys \
         WHERE org_id = $1 AND key = $2 AND created_at = $3 AND status IS NULL",
    )
    .bind(org_id.as_str())
    .bind(key)
    .bind(claimed_at)
    .execute(&mut pool.acquire_writer().await?)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::server::store::test_pools;

    const ABANDONED_AFTER: TimeDelta = TimeDelta::minutes(5);

    fn times(now: DateTime<Utc>) -> ClaimTimes {
        ClaimTimes {
            now,
            expired_before: now - TimeDelta::hours(24),
            abandoned_before: now - ABANDONED_AFTER,
        }
    }

    async fn org(pool: &Pool) -> OrgId {
        let id = OrgId::generate();
        query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.as_str())
            .bind(format!("org-{}", id.as_str()))
            .bind(super::super::now())
            .execute(&mut pool.acquire_writer().await.expect("writer"))
            .await
            .expect("insert organization");
        id
    }

    fn kind(claim: &Claim) -> &'static str {
        match claim {
            Claim::Fresh => "fresh",
            Claim::Replay { .. } => "replay",
            Claim::Mismatch => "mismatch",
            Claim::InProgress => "in progress",
        }
    }

    #[tokio::test]
    async fn an_abandoned_claim_is_retaken_by_the_same_request_only_once_old_enough() {
        for (_guard, pool) in test_pools::all().await {
            let org = org(&pool).await;
            let t0: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().expect("time");
            let claim = |at| claim(&pool, &org, "k", "hash-a", times(at));
            assert_eq!(kind(&claim(t0).await.expect("claim")), "fresh");
            let early = t0 + ABANDONED_AFTER - TimeDelta::seconds(1);
            assert_eq!(kind(&claim(early).await.expect("claim")), "in progress");
            let other = super::claim(&pool, &org, "k", "hash-b", times(t0 + ABANDONED_AFTER));
            assert_eq!(kind(&other.await.expect("claim")), "mismatch");

            let retaken_at = t0 + ABANDONED_AFTER;
            assert_eq!(kind(&claim(retaken_at).await.expect("claim")), "fresh");
            // The first request finishing late no longer names the record; the retaking one does.
            complete(&pool, &org, "k", t0, 500, "{}", b"late")
                .await
                .expect("complete");
            assert_eq!(
                kind(
                    &claim(retaken_at + TimeDelta::seconds(1))
                        .await
                        .expect("claim")
                ),
                "in progress"
            );
            complete(&pool, &org, "k", retaken_at, 201, "{}", b"done")
                .await
                .expect("complete");
            match claim(retaken_at + TimeDelta::hours(1))
                .await
                .expect("claim")
            {
                Claim::Replay { status, body, .. } => {
                    assert_eq!((status, body.as_slice()), (201, b"done".as_slice()));
                }
                other => panic!("expected a replay, got {}", kind(&other)),
            }
        }
    }

    #[tokio::test]
    async fn a_released_claim_frees_the_key_but_a_stale_release_does_not() {
        for (_guard, pool) in test_pools::all().await {
            let org = org(&pool).await;
            let t0: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().expect("time");
            let claim = |at| claim(&pool, &org, "k", "hash-a", times(at));
            assert_eq!(kind(&claim(t0).await.expect("claim")), "fresh");
            let retaken_at = t0 + ABANDONED_AFTER;
            assert_eq!(kind(&claim(retaken_at).await.expect("claim")), "fresh");
            release(&pool, &org, "k", t0).await.expect("stale release");
            let soon = retaken_at + TimeDelta::seconds(1);
            assert_eq!(kind(&claim(soon).await.expect("claim")), "in progress");
            release(&pool, &org, "k", retaken_at)
                .await
                .expect("release");
            assert_eq!(kind(&claim(soon).await.expect("claim")), "fresh");
        }
    }
}
