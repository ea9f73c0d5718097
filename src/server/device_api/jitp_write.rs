//! One batch of the JITP provisioner in one write transaction: the checks a single device had
//! (archived product, identifier or certificate taken meanwhile, JITP cohort still in the
//! product) made set-based inside the transaction, then the devices, their certificates and
//! their `device.provisioned` events as multi-row inserts.
//!
//! Two requests of one identifier or certificate in a batch: the first is provisioned, the
//! others are answered `Raced` and resolve again after the commit (admitted as that device).
//! Should an insert still hit a unique violation (a writer outside the write queue), the batch
//! is rolled back and each device written again in a transaction of its own, where a violation
//! is that device's `Raced`, so one race never fails the others.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::json;

use super::jitp::{Answer, Failure, Outcome, Request};
use super::principal::DevicePrincipal;
use crate::api::{AuditAction, CohortId, DeviceId, OrgId, ProductId};
use crate::server::store::events::{Actor, AuditEvent};
use crate::server::store::jitp_batch::{self as batch_rows, NewDevice};
use crate::server::store::{self, Pool, device_identity as rows};

/// Writes `requests` and answers each, in their order.
pub async fn write(pool: &Pool, requests: &[Request]) -> Vec<Answer> {
    match batch(pool, requests).await {
        Ok(answers) => answers,
        Err(err) if store::is_unique_violation(&err) => {
            if requests.len() == 1 {
                return vec![Ok(Outcome::Raced)];
            }
            tracing::warn!(error = %err, devices = requests.len(),
                "a batch of devices provisioned just in time raced another writer; \
                 writing them one by one");
            let mut answers = Vec::with_capacity(requests.len());
            for request in requests {
                answers.push(match batch(pool, std::slice::from_ref(request)).await {
                    Ok(mut one) => one.pop().unwrap_or(Err(Failure::Internal)),
                    Err(err) if store::is_unique_violation(&err) => Ok(Outcome::Raced),
                    Err(err) => Err(failed(&err, 1)),
                });
            }
            answers
        }
        Err(err) => {
            let failure = failed(&err, requests.len());
            requests.iter().map(|_| Err(failure)).collect()
        }
    }
}

fn failed(err: &sqlx::Error, devices: usize) -> Failure {
    tracing::error!(error = %err, devices, "could not provision devices just in time");
    Failure::of(err)
}

/// The `device.provisioned` event of a device admitted with a certificate under `ca_id`:
/// `created` when the device was made just in time, not when a moved device's
/// `needs_provisioning` was cleared.
pub struct Provisioned<'a> {
    pub org_id: &'a OrgId,
    pub product_id: Option<&'a ProductId>,
    pub device_id: &'a str,
    pub identifier: &'a str,
    pub ca_id: &'a str,
    pub fingerprint: &'a str,
    pub created: bool,
}

impl<'a> Provisioned<'a> {
    pub fn event(&self) -> AuditEvent<'a> {
        AuditEvent::new(
            self.org_id,
            Actor::default(),
            AuditAction::DeviceProvisioned,
            json!({
                "identifier": self.identifier,
                "ca_id": self.ca_id,
                "fingerprint": self.fingerprint,
                "created": self.created,
            }),
        )
        .resource(self.device_id)
        .product(self.product_id)
    }
}

/// A request of the batch that is to be provisioned: its new device's ID and defaults.
struct Fresh {
    index: usize,
    id: DeviceId,
    cohort_id: Option<CohortId>,
    tags: Vec<String>,
}

async fn batch(pool: &Pool, requests: &[Request]) -> sqlx::Result<Vec<Answer>> {
    let mut answers: Vec<Option<Answer>> = requests.iter().map(|_| None).collect();
    let mut identifiers = HashSet::new();
    let mut fingerprints = HashSet::new();
    for (request, answer) in requests.iter().zip(&mut answers) {
        let identifier = (request.org_id.as_str(), request.identifier.as_str());
        if identifiers.contains(&identifier) || fingerprints.contains(request.fingerprint.as_str())
        {
            *answer = Some(Ok(Outcome::Raced));
        } else {
            identifiers.insert(identifier);
            fingerprints.insert(request.fingerprint.as_str());
        }
    }
    let open = |answers: &[Option<Answer>]| -> Vec<usize> {
        (0..requests.len())
            .filter(|&i| answers[i].is_none())
            .collect()
    };

    let mut tx = store::begin_write(pool).await?;
    let products: BTreeSet<&str> = open(&answers)
        .into_iter()
        .map(|i| requests[i].ca.product_id.as_str())
        .collect();
    let archived =
        batch_rows::archived_products(&mut tx, &products.into_iter().collect::<Vec<_>>()).await?;
    for i in open(&answers) {
        if archived.contains(&requests[i].ca.product_id) {
            answers[i] = Some(Ok(Outcome::ProductArchived));
        }
    }

    // Written since the caller looked: another replica, the admin API, a bulk import.
    let mut by_org: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for i in open(&answers) {
        let request = &requests[i];
        by_org
            .entry(request.org_id.as_str())
            .or_default()
            .push(&request.identifier);
    }
    let mut taken = HashSet::new();
    for (org_id, identifiers) in by_org {
        for identifier in batch_rows::taken_identifiers(&mut tx, org_id, &identifiers).await? {
            taken.insert((org_id, identifier));
        }
    }
    let fingerprints: Vec<&str> = open(&answers)
        .into_iter()
        .map(|i| requests[i].fingerprint.as_str())
        .collect();
    let recorded = batch_rows::recorded_fingerprints(&mut tx, &fingerprints).await?;
    for i in open(&answers) {
        let request = &requests[i];
        if taken.contains(&(request.org_id.as_str(), request.identifier.clone()))
            || recorded.contains(&request.fingerprint)
        {
            answers[i] = Some(Ok(Outcome::Raced));
        }
    }

    // A CA's JITP cohort counts only while it is still in the CA's product.
    let pairs: BTreeSet<(&str, &str)> = open(&answers)
        .into_iter()
        .filter_map(|i| {
            let ca = &requests[i].ca;
            Some((ca.jitp_cohort_id.as_deref()?, ca.product_id.as_str()))
        })
        .collect();
    let cohorts =
        batch_rows::cohorts_in_products(&mut tx, &pairs.into_iter().collect::<Vec<_>>()).await?;

    let mut fresh = Vec::new();
    for i in open(&answers) {
        let ca = &requests[i].ca;
        let tags = match rows::jitp_tags(ca) {
            Ok(tags) => tags,
            Err(err) => {
                answers[i] = Some(Err(failed(&err, 1)));
                continue;
            }
        };
        let cohort_id = ca
            .jitp_cohort_id
            .as_ref()
            .filter(|cohort| cohorts.contains(&((*cohort).clone(), ca.product_id.clone())))
            .and_then(|cohort| CohortId::parse(cohort));
        fresh.push(Fresh {
            index: i,
            id: DeviceId::generate(),
            cohort_id,
            tags,
        });
    }

    let now = store::now();
    let devices: Vec<NewDevice<'_>> = fresh
        .iter()
        .map(|f| {
            let request = &requests[f.index];
            NewDevice {
                id: &f.id,
                org_id: &request.org_id,
                product_id: &request.product_id,
                identifier: &request.identifier,
                cohort_id: f.cohort_id.as_ref(),
                tags: &f.tags,
                target: request.ca.jitp_target.as_deref(),
                description: &request.ca.jitp_description,
            }
        })
        .collect();
    batch_rows::insert_devices(&mut tx, &devices, now).await?;
    let certs: Vec<_> = fresh
        .iter()
        .map(|f| requests[f.index].cert(f.id.as_str()))
        .collect();
    rows::insert_presented_all(&mut tx, &certs, now).await?;
    let events: Vec<AuditEvent<'_>> = fresh
        .iter()
        .map(|f| {
            let request = &requests[f.index];
            Provisioned {
                org_id: &request.org_id,
                product_id: Some(&request.product_id),
                device_id: f.id.as_str(),
                identifier: &request.identifier,
                ca_id: &request.ca.id,
                fingerprint: &request.fingerprint,
                created: true,
            }
            .event()
        })
        .collect();
    AuditEvent::record_all(&mut tx, &events).await?;
    tx.commit().await?;

    for f in fresh {
        let request = &requests[f.index];
        tracing::info!(device = %f.id, identifier = request.identifier.as_str(), ca = %request.ca.id,
            "device provisioned just in time");
        answers[f.index] = Some(Ok(Outcome::Provisioned(DevicePrincipal {
            org_id: request.org_id.clone(),
            device_id: f.id,
            identifier: request.identifier.clone(),
            product_id: request.product_id.clone(),
            cohort_id: f.cohort_id,
        })));
    }
    Ok(answers
        .into_iter()
        .map(|answer| answer.unwrap_or(Err(Failure::Internal)))
        .collect())
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::Utc;

    use super::*;
    use crate::server::store::{query, test_pools};

    /// An organization with products `live` and `gone` (archived), a cohort `canary` of
    /// `live`, and one JITP CA for each product (the `live` one with the cohort as default).
    pub struct Fixture {
        pub org: OrgId,
        pub live: ProductId,
        pub gone: ProductId,
        pub canary: CohortId,
        pub live_ca: rows::CaRow,
        pub gone_ca: rows::CaRow,
    }

    fn ca_row(
        id: &str,
        org: &OrgId,
        product: &ProductId,
        cohort: Option<&CohortId>,
    ) -> rows::CaRow {
        let now = Utc::now();
        rows::CaRow {
            id: id.to_owned(),
            org_id: org.as_str().to_owned(),
            product_id: product.as_str().to_owned(),
            certificate_pem: String::new(),
            enabled: true,
            jitp_enabled: true,
            jitp_cohort_id: cohort.map(|c| c.as_str().to_owned()),
            jitp_tags: "[\"site:lab\"]".to_owned(),
            jitp_target: Some("armv7".to_owned()),
            jitp_description: "by JITP".to_owned(),
            not_before: now,
            not_after: now,
        }
    }

    pub async fn fixture(pool: &Pool) -> Fixture {
        let org = OrgId::generate();
        let live = ProductId::generate();
        let gone = ProductId::generate();
        let canary = CohortId::generate();
        let now = store::now();
        let mut tx = store::begin_write(pool).await.expect("begin");
        query("INSERT INTO organizations (id, name, created_at) VALUES ($1, 'o', $2)")
            .bind(org.as_str())
            .bind(now)
            .execute(&mut tx)
            .await
            .expect("org");
        for (product, name, archived) in [(&live, "live", false), (&gone, "gone", true)] {
            query(
                "INSERT INTO products (id, org_id, name, archived, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(product.as_str())
            .bind(org.as_str())
            .bind(name)
            .bind(archived)
            .bind(now)
            .execute(&mut tx)
            .await
            .expect("product");
        }
        query(
            "INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at) \
             VALUES ($1, $2, $3, 'canary', $4, $4)",
        )
        .bind(canary.as_str())
        .bind(org.as_str())
        .bind(live.as_str())
        .bind(now)
        .execute(&mut tx)
        .await
        .expect("cohort");
        let live_ca = ca_row("ca_live", &org, &live, Some(&canary));
        let gone_ca = ca_row("ca_gone", &org, &gone, None);
        for ca in [&live_ca, &gone_ca] {
            query(
                "INSERT INTO certificate_authorities (id, org_id, product_id, name, \
                 certificate_pem, fingerprint, subject_der, subject, not_before, not_after, \
                 jitp_enabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'pem', $5, $6, 's', $7, $7, TRUE, $7, $7)",
            )
            .bind(ca.id.as_str())
            .bind(org.as_str())
            .bind(ca.product_id.as_str())
            .bind(ca.id.as_str())
            .bind(format!("fp-{}", ca.id))
            .bind(ca.id.as_bytes().to_vec())
            .bind(now)
            .execute(&mut tx)
            .await
            .expect("CA");
        }
        tx.commit().await.expect("commit");
        Fixture {
            org,
            live,
            gone,
            canary,
            live_ca,
            gone_ca,
        }
    }

    /// A request for `identifier` under `ca`, with a certificate of fingerprint `fingerprint`.
    pub fn request(ca: &rows::CaRow, identifier: &str, fingerprint: &str) -> Request {
        Request {
            ca: ca.clone(),
            org_id: OrgId::parse(&ca.org_id).expect("org ID"),
            product_id: ProductId::parse(&ca.product_id).expect("product ID"),
            identifier: identifier.to_owned(),
            fingerprint: fingerprint.to_owned(),
            pem: format!("pem of {fingerprint}"),
            subject: format!("CN={identifier}"),
            serial: "01".to_owned(),
            not_before: store::now(),
            not_after: store::now(),
        }
    }

    pub async fn count(pool: &Pool, sql: &str) -> i64 {
        let mut conn = pool.acquire().await.expect("conn");
        let (n,): (i64,) = query(sql).fetch_one(&mut conn).await.expect(sql);
        n
    }

    fn provisioned(answer: &Answer) -> &DevicePrincipal {
        match answer {
            Ok(Outcome::Provisioned(principal)) => principal,
            other => panic!("provisioned, not {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_batch_provisions_its_devices_and_refuses_or_defers_the_rest_each_alone() {
        for (_dir, pool) in test_pools::all().await {
            let f = fixture(&pool).await;
            // Made by the admin API meanwhile: the request looks again and is admitted.
            store::devices::insert(
                &mut pool.acquire_writer().await.expect("writer"),
                &f.org,
                &DeviceId::generate(),
                "sn-existing",
                &store::devices::Fields {
                    product_id: &f.live,
                    cohort_id: None,
                    description: "",
                    tags: &[],
                    target: None,
                    quarantined: false,
                },
                store::now(),
            )
            .await
            .expect("device");
            let requests = vec![
                request(&f.live_ca, "sn-1", "fp-1"),
                request(&f.gone_ca, "sn-archived", "fp-2"),
                // The same identifier twice in one batch (another certificate).
                request(&f.live_ca, "sn-twice", "fp-3"),
                request(&f.live_ca, "sn-twice", "fp-4"),
                // The same certificate twice.
                request(&f.live_ca, "sn-2", "fp-5"),
                request(&f.live_ca, "sn-2", "fp-5"),
                request(&f.live_ca, "sn-existing", "fp-6"),
                request(&f.live_ca, "sn-3", "fp-7"),
            ];
            let answers = write(&pool, &requests).await;
            assert_eq!(answers.len(), requests.len());
            let first = provisioned(&answers[0]);
            assert_eq!(first.identifier, "sn-1");
            assert_eq!(first.product_id, f.live);
            assert_eq!(first.cohort_id.as_ref(), Some(&f.canary));
            assert_eq!(answers[1], Ok(Outcome::ProductArchived));
            assert_eq!(provisioned(&answers[2]).identifier, "sn-twice");
            assert_eq!(answers[3], Ok(Outcome::Raced));
            assert_eq!(provisioned(&answers[4]).identifier, "sn-2");
            assert_eq!(answers[5], Ok(Outcome::Raced));
            assert_eq!(answers[6], Ok(Outcome::Raced));
            assert_eq!(provisioned(&answers[7]).identifier, "sn-3");

            assert_eq!(count(&pool, "SELECT COUNT(*) FROM devices").await, 4 + 1);
            assert_eq!(
                count(
                    &pool,
                    "SELECT COUNT(*) FROM device_records WHERE identifier = 'sn-archived'"
                )
                .await,
                0
            );
            assert_eq!(
                count(&pool, "SELECT COUNT(*) FROM device_certificates").await,
                4
            );
            // Every provisioned device has its CA's defaults and one event with today's fields.
            let mut conn = pool.acquire().await.expect("conn");
            for answer in [&answers[0], &answers[2], &answers[4], &answers[7]] {
                let device = provisioned(answer);
                let row: (String, Option<String>, String, Option<String>, String, i64) = query(
                    "SELECT identifier, cohort_id, tags, target, description, revision \
                     FROM device_records WHERE id = $1",
                )
                .bind(device.device_id.as_str())
                .fetch_one(&mut conn)
                .await
                .expect("device row");
                assert_eq!(
                    row,
                    (
                        device.identifier.clone(),
                        Some(f.canary.as_str().to_owned()),
                        "[\"site:lab\"]".to_owned(),
                        Some("armv7".to_owned()),
                        "by JITP".to_owned(),
                        1
                    )
                );
                let events: Vec<(String, Option<String>, String, Option<String>)> = query(
                    "SELECT org_id, product_id, details, key_id FROM events \
                     WHERE action = 'device.provisioned' AND resource_id = $1",
                )
                .bind(device.device_id.as_str())
                .fetch_all(&mut conn)
                .await
                .expect("events");
                assert_eq!(events.len(), 1, "{events:?}");
                assert_eq!(events[0].0, f.org.as_str());
                assert_eq!(events[0].1.as_deref(), Some(f.live.as_str()));
                assert_eq!(events[0].3, None);
                let details: serde_json::Value =
                    serde_json::from_str(&events[0].2).expect("details");
                let cert: (String, String) = query(
                    "SELECT fingerprint, source FROM device_certificates WHERE device_id = $1",
                )
                .bind(device.device_id.as_str())
                .fetch_one(&mut conn)
                .await
                .expect("certificate");
                assert_eq!(cert.1, "presented");
                assert_eq!(
                    details,
                    json!({
                        "identifier": device.identifier,
                        "ca_id": "ca_live",
                        "fingerprint": cert.0,
                        "created": true,
                    })
                );
            }
            drop(conn);
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_cohort_moved_out_of_the_product_is_no_default() {
        for (_dir, pool) in test_pools::all().await {
            let f = fixture(&pool).await;
            let mut ca = f.live_ca.clone();
            // A cohort of another product (the CA's default left behind by a move).
            ca.jitp_cohort_id = Some(f.canary.as_str().to_owned());
            ca.product_id = f.gone.as_str().to_owned();
            query("UPDATE products SET archived = FALSE WHERE id = $1")
                .bind(f.gone.as_str())
                .execute(&mut pool.acquire_writer().await.expect("writer"))
                .await
                .expect("unarchive");
            let mut other = request(&ca, "sn-1", "fp-1");
            other.ca.id = f.gone_ca.id.clone();
            let answers = write(&pool, &[other, request(&f.live_ca, "sn-2", "fp-2")]).await;
            assert_eq!(provisioned(&answers[0]).cohort_id, None);
            assert_eq!(provisioned(&answers[1]).cohort_id.as_ref(), Some(&f.canary));
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_certificate_recorded_meanwhile_defers_only_its_request() {
        for (_dir, pool) in test_pools::all().await {
            let f = fixture(&pool).await;
            let answers = write(&pool, &[request(&f.live_ca, "sn-1", "fp-1")]).await;
            let first = provisioned(&answers[0]).clone();
            // The same certificate, presented for another identifier (it was renamed).
            let answers = write(
                &pool,
                &[
                    request(&f.live_ca, "sn-renamed", "fp-1"),
                    request(&f.live_ca, "sn-2", "fp-2"),
                ],
            )
            .await;
            assert_eq!(answers[0], Ok(Outcome::Raced));
            assert_eq!(provisioned(&answers[1]).identifier, "sn-2");
            assert_ne!(provisioned(&answers[1]).device_id, first.device_id);
            assert_eq!(count(&pool, "SELECT COUNT(*) FROM devices").await, 2);
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_unique_violation_in_a_batch_falls_back_to_one_transaction_a_device() {
        for (_dir, pool) in test_pools::all().await {
            let f = fixture(&pool).await;
            // Every device of the CA gets the same description: a batch of two violates this
            // index, the first device alone does not, the second alone does.
            query("CREATE UNIQUE INDEX test_one_description ON device_details (description)")
                .execute(&mut pool.acquire_writer().await.expect("writer"))
                .await
                .expect("index");
            let answers = write(
                &pool,
                &[
                    request(&f.live_ca, "sn-1", "fp-1"),
                    request(&f.live_ca, "sn-2", "fp-2"),
                    request(&f.gone_ca, "sn-3", "fp-3"),
                ],
            )
            .await;
            assert_eq!(provisioned(&answers[0]).identifier, "sn-1");
            assert_eq!(answers[1], Ok(Outcome::Raced));
            assert_eq!(answers[2], Ok(Outcome::ProductArchived));
            assert_eq!(count(&pool, "SELECT COUNT(*) FROM devices").await, 1);
            assert_eq!(
                count(&pool, "SELECT COUNT(*) FROM device_certificates").await,
                1
            );
            assert_eq!(
                count(
                    &pool,
                    "SELECT COUNT(*) FROM events WHERE action = 'device.provisioned'"
                )
                .await,
                1
            );
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_failed_transaction_answers_every_request_with_an_error() {
        let pool = Pool::closed().await;
        let f_ca = ca_row("ca", &OrgId::generate(), &ProductId::generate(), None);
        let answers = write(
            &pool,
            &[
                request(&f_ca, "sn-1", "fp-1"),
                request(&f_ca, "sn-2", "fp-2"),
            ],
        )
        .await;
        assert_eq!(
            answers,
            vec![Err(Failure::Internal), Err(Failure::Internal)]
        );
    }
}
