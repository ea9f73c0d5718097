//! The JITP provisioner: one per replica (its device listener's), it queues the devices that
//! connections want provisioned just in time and writes them in batches, each in one write
//! transaction (`jitp_write`), instead of one transaction per device: SQLite has one writer,
//! which the check-in writer shares, and PostgreSQL replicas share one write lock.
//!
//! A batch is everything queued when the previous one finished (at most [`MAX_BATCH`]), so a
//! lone device waits for no timer and a burst of thousands costs a few dozen transactions. The
//! batch runs in a task of its own: a requester whose connection goes away cannot abandon the
//! others' devices half-written, and each requester is answered with its own outcome or, when
//! the transaction fails, with an error, never left waiting.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::jitp_write;
use super::principal::DevicePrincipal;
use crate::api::{OrgId, ProductId};
use crate::server::error::ApiError;
use crate::server::store::device_identity::{CaRow, NewCert};
use crate::server::store::{self, Pool};

/// Most devices in one batch: a few hundred keep a transaction short (tens of milliseconds)
/// while a burst still costs few of them.
pub const MAX_BATCH: usize = 256;

/// A device to provision: an unknown identifier presented with a certificate under `ca`,
/// which provisions just in time, checked by the caller (JITP on, a valid identifier, the
/// certificate not recorded yet when it looked).
#[derive(Debug, Clone)]
pub struct Request {
    pub ca: CaRow,
    pub org_id: OrgId,
    pub product_id: ProductId,
    pub identifier: String,
    pub fingerprint: String,
    /// The leaf certificate as PEM, for its row.
    pub pem: String,
    pub subject: String,
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl Request {
    /// The certificate's row for `device_id`.
    pub fn cert<'a>(&'a self, device_id: &'a str) -> NewCert<'a> {
        NewCert {
            org_id: self.org_id.as_str(),
            device_id,
            ca_id: &self.ca.id,
            fingerprint: &self.fingerprint,
            pem: &self.pem,
            subject: &self.subject,
            serial: &self.serial,
            not_before: self.not_before,
            not_after: self.not_after,
        }
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Created with the CA's JITP defaults, its certificate recorded, the event appended.
    Provisioned(DevicePrincipal),
    /// The CA's product is archived and takes no new devices.
    ProductArchived,
    /// The identifier or certificate was written by another request meanwhile (or earlier in
    /// the same batch): resolve the certificate again.
    Raced,
}

/// Why a request got no outcome. Logged once per batch where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    DiskFull,
    Internal,
}

impl Failure {
    pub fn of(err: &sqlx::Error) -> Failure {
        if store::is_disk_full(err) {
            Failure::DiskFull
        } else {
            Failure::Internal
        }
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::DiskFull => ApiError::insufficient_storage(),
            Failure::Internal => ApiError::internal(),
        }
    }
}

pub type Answer = Result<Outcome, Failure>;

struct Job {
    request: Request,
    answer: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// A batch task is running; it takes whatever is queued until the queue is empty.
    running: bool,
}

struct Inner {
    pool: Pool,
    queue: Mutex<Queue>,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
pub struct Provisioner {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Provisioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioner")
            .field("queued", &self.inner.lock().jobs.len())
            .finish()
    }
}

impl Provisioner {
    pub fn new(pool: Pool) -> Self {
        Provisioner {
            inner: Arc::new(Inner {
                pool,
                queue: Mutex::default(),
            }),
        }
    }

    /// Queues `request` for the next batch and waits for its outcome.
    pub async fn provision(&self, request: Request) -> Answer {
        let (answer, outcome) = oneshot::channel();
        let start = {
            let mut queue = self.inner.lock();
            queue.jobs.push_back(Job { request, answer });
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            tokio::spawn(run(self.inner.clone()));
        }
        // A dropped sender means the batch task ended without answering (it panicked).
        outcome.await.unwrap_or(Err(Failure::Internal))
    }
}

/// Writes batches until the queue is empty.
async fn run(inner: Arc<Inner>) {
    let mut running = Running {
        inner: &inner,
        finished: false,
    };
    loop {
        let jobs: Vec<Job> = {
            let mut queue = inner.lock();
            if queue.jobs.is_empty() {
                queue.running = false;
                running.finished = true;
                return;
            }
            let take = queue.jobs.len().min(MAX_BATCH);
            queue.jobs.drain(..take).collect()
        };
        let (requests, answers): (Vec<Request>, Vec<oneshot::Sender<Answer>>) = jobs
            .into_iter()
            .map(|job| (job.request, job.answer))
            .unzip();
        let outcomes = jitp_write::write(&inner.pool, &requests).await;
        for (answer, outcome) in answers.into_iter().zip(outcomes) {
            // The requester may have gone (its connection closed); its device is written anyway.
            let _ = answer.send(outcome);
        }
    }
}

/// The batch task's mark on the queue. Should the task unwind instead of finishing, the queued
/// requests are failed (each requester gets an error) and the next request starts a new task,
/// so nothing waits for a task that is gone.
struct Running<'a> {
    inner: &'a Inner,
    finished: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let mut queue = self.inner.lock();
            queue.running = false;
            queue.jobs.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::server::device_api::jitp_write::tests::{count, fixture, request};
    use crate::server::store::test_pools;
    use crate::server::store::write_gate::WriteGate;

    impl Provisioner {
        fn queued(&self) -> usize {
            self.inner.lock().jobs.len()
        }
    }

    /// While one batch is being written, everything that arrives waits and goes in the next
    /// batch together: 50 devices in two write transactions, each device once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_queued_during_a_batch_are_written_together() {
        for (_dir, mut pool) in test_pools::all().await {
            let f = fixture(&pool).await;
            let gate = Arc::new(WriteGate::new());
            pool.set_write_gate(Some(gate.clone()));
            gate.close();
            let provisioner = Provisioner::new(pool.clone());
            let first = {
                let provisioner = provisioner.clone();
                let request = request(&f.live_ca, "sn-0", "fp-0");
                tokio::spawn(async move { provisioner.provision(request).await })
            };
            gate.inside(1).await;
            let mut rest = Vec::new();
            for i in 1..50 {
                let provisioner = provisioner.clone();
                // sn-7 twice, with two certificates: one device.
                let identifier = if i == 49 {
                    "sn-7".to_owned()
                } else {
                    format!("sn-{i}")
                };
                let request = request(&f.live_ca, &identifier, &format!("fp-{i}"));
                rest.push(tokio::spawn(
                    async move { provisioner.provision(request).await },
                ));
            }
            while provisioner.queued() < 49 {
                tokio::task::yield_now().await;
            }
            gate.open();
            let mut answers = vec![first.await.expect("task")];
            for task in rest {
                answers.push(task.await.expect("task"));
            }
            assert_eq!(gate.arrivals(), 2, "one write transaction per batch");
            let provisioned = answers
                .iter()
                .filter(|a| matches!(a, Ok(Outcome::Provisioned(_))))
                .count();
            assert_eq!(provisioned, 49, "{answers:?}");
            // The two sn-7 requests run on two worker threads: either may be queued first,
            // and the other is the race.
            let sn_7 = [&answers[7], &answers[49]];
            assert_eq!(
                sn_7.iter().filter(|a| ***a == Ok(Outcome::Raced)).count(),
                1,
                "{sn_7:?}"
            );
            assert_eq!(count(&pool, "SELECT COUNT(*) FROM devices").await, 49);
            assert_eq!(
                count(
                    &pool,
                    "SELECT COUNT(DISTINCT identifier) FROM device_records"
                )
                .await,
                49
            );
            assert_eq!(
                count(
                    &pool,
                    "SELECT COUNT(DISTINCT resource_id) FROM events \
                     WHERE action = 'device.provisioned'"
                )
                .await,
                49
            );
            assert_eq!(
                count(
                    &pool,
                    "SELECT COUNT(*) FROM events WHERE action = 'device.provisioned'"
                )
                .await,
                49
            );
            pool.close().await;
        }
    }

    #[tokio::test]
    async fn a_database_that_fails_answers_every_waiting_request() {
        let pool = crate::server::store::Pool::closed().await;
        let f_pool = test_pools::all().await;
        let f = fixture(&f_pool[0].1).await;
        let provisioner = Provisioner::new(pool);
        let answers = futures_util::future::join_all(
            (0..5).map(|i| provisioner.provision(request(&f.live_ca, &format!("sn-{i}"), "fp"))),
        )
        .await;
        assert!(
            answers.iter().all(|a| *a == Err(Failure::Internal)),
            "{answers:?}"
        );
        // A later request starts a new batch task.
        assert_eq!(
            provisioner
                .provision(request(&f.live_ca, "sn-9", "fp-9"))
                .await,
            Err(Failure::Internal)
        );
    }
}
