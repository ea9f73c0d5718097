//! Why a device request is refused: the reason the device reads in its 401/403, the warning in
//! the service log, and the `device.refused` audit event, recorded at most once a minute per
//! certificate (or client address) and reason across all replicas, so a device that keeps
//! retrying cannot flood the audit log.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::{AuditAction, ErrorCode, OrgId, ProductId};
use crate::server::error::ApiError;
use crate::server::store::{self, Pool, events::Actor, events::AuditEvent};

/// At most one `device.refused` event per certificate (or address) and reason this often.
pub const EVENT_EVERY: Duration = Duration::from_secs(60);

/// The reasons, each with the word the device and the operator see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    ApiKey,
    NoCertificate,
    BadCertificate,
    UnknownCa,
    Expired,
    Revoked,
    CaDisabled,
    NotRegistered,
    OtherProduct,
    OtherDevice,
    InvalidIdentifier,
    ProductArchived,
}

impl Reason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::ApiKey => "API key",
            Reason::NoCertificate => "no client certificate",
            Reason::BadCertificate => "unreadable certificate",
            Reason::UnknownCa => "unknown CA",
            Reason::Expired => "expired",
            Reason::Revoked => "revoked",
            Reason::CaDisabled => "CA disabled",
            Reason::NotRegistered => "not registered",
            Reason::OtherProduct => "device in another product",
            Reason::OtherDevice => "certificate of another device",
            Reason::InvalidIdentifier => "invalid identifier",
            Reason::ProductArchived => "product archived",
        }
    }

    /// 401 when the request carried no usable credential; 403 when the certificate is genuine
    /// but does not admit this device.
    fn status(self) -> StatusCode {
        match self {
            Reason::ApiKey
            | Reason::NoCertificate
            | Reason::BadCertificate
            | Reason::UnknownCa
            | Reason::Expired
            | Reason::Revoked => StatusCode::UNAUTHORIZED,
            Reason::CaDisabled
            | Reason::NotRegistered
            | Reason::OtherProduct
            | Reason::OtherDevice
            | Reason::InvalidIdentifier
            | Reason::ProductArchived => StatusCode::FORBIDDEN,
        }
    }
}

/// One refusal with what is known about whom it concerns.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: Reason,
    /// What exactly was wrong, for the device's error message and the log.
    pub detail: String,
    /// What the device's operator can do about it.
    pub hint: String,
    /// The organization the certificate's CA or device belongs to, when one does.
    pub org_id: Option<OrgId>,
    pub product_id: Option<ProductId>,
    pub device_id: Option<String>,
    pub ca_id: Option<String>,
    pub fingerprint: Option<String>,
    pub common_name: Option<String>,
}

impl Refusal {
    pub fn new(reason: Reason, detail: impl Into<String>, hint: impl Into<String>) -> Self {
        Refusal {
            reason,
            detail: detail.into(),
            hint: hint.into(),
            org_id: None,
            product_id: None,
            device_id: None,
            ca_id: None,
            fingerprint: None,
            common_name: None,
        }
    }

    /// The device's answer; the connection closes after it, so a refused device pays a new
    /// TLS handshake per attempt.
    pub fn response(&self) -> Response {
        let code = if self.reason.status() == StatusCode::UNAUTHORIZED {
            ErrorCode::Unauthorized
        } else {
            ErrorCode::Forbidden
        };
        let mut response = ApiError::new(
            self.reason.status(),
            code,
            format!("device refused: {}: {}", self.reason.as_str(), self.detail),
        )
        .with_hint(self.hint.clone())
        .into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }
}

/// Logs refusals and records their events, at most once per [`EVENT_EVERY`] per certificate
/// (or address) and reason: checked in this replica's memory first, so a flood costs no
/// database writes, then in the database, so replicas share the limit.
#[derive(Default)]
pub struct RefusalLog {
    recent: Mutex<HashMap<(String, Reason), Instant>>,
    default_org: tokio::sync::OnceCell<Option<OrgId>>,
}

impl RefusalLog {
    pub async fn refuse(&self, pool: &Pool, refusal: &Refusal, client: IpAddr) -> Response {
        tracing::warn!(
            reason = refusal.reason.as_str(),
            detail = %refusal.detail,
            fingerprint = refusal.fingerprint.as_deref().unwrap_or("-"),
            cn = refusal.common_name.as_deref().unwrap_or("-"),
            client = %client,
            "device refused"
        );
        let subject = match &refusal.fingerprint {
            Some(fingerprint) => fingerprint.clone(),
            None => format!("address:{client}"),
        };
        if self.seen_recently(&subject, refusal.reason) {
            return refusal.response();
        }
        if let Err(err) = self.record(pool, refusal, &subject, client).await {
            tracing::warn!(error = %err, "could not record a refused device");
        }
        refusal.response()
    }

    /// Whether this replica already handled this refusal within the last [`EVENT_EVERY`];
    /// notes it as handled now when not.
    fn seen_recently(&self, subject: &str, reason: Reason) -> bool {
        let now = Instant::now();
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if recent.len() > 100_000 {
            recent.retain(|_, at| now.duration_since(*at) < EVENT_EVERY);
        }
        match recent.get(&(subject.to_owned(), reason)) {
            Some(at) if now.duration_since(*at) < EVENT_EVERY => true,
            _ => {
                recent.insert((subject.to_owned(), reason), now);
                false
            }
        }
    }

    async fn record(
        &self,
        pool: &Pool,
        refusal: &Refusal,
        subject: &str,
        client: IpAddr,
    ) -> sqlx::Result<()> {
        let org_id = match &refusal.org_id {
            Some(org_id) => Some(org_id.clone()),
            None => self.default_org(pool).await?,
        };
        let Some(org_id) = org_id else {
            return Ok(());
        };
        let now_ms = store::now().timestamp_millis();
        let every_ms = i64::try_from(EVENT_EVERY.as_millis()).unwrap_or(i64::MAX);
        let mut tx = store::begin_write(pool).await?;
        let reason = refusal.reason.as_str();
        if !store::device_identity::take_refusal_slot(&mut tx, subject, reason, now_ms, every_ms)
            .await?
        {
            return Ok(());
        }
        let details = json!({
            "reason": reason,
            "detail": refusal.detail,
            "fingerprint": refusal.fingerprint,
            "identifier": refusal.common_name,
            "ca_id": refusal.ca_id,
            "client": client.to_string(),
        });
        let mut event = AuditEvent::new(
            &org_id,
            Actor::default(),
            AuditAction::DeviceRefused,
            details,
        )
        .product(refusal.product_id.as_ref())
        .denied();
        if let Some(device_id) = &refusal.device_id {
            event = event.resource(device_id);
        }
        event.record(&mut tx).await?;
        tx.commit().await
    }

    /// Refusals that concern no organization (no CA or device matched) are recorded in the
    /// `default` one, the organization every deployment has.
    async fn default_org(&self, pool: &Pool) -> sqlx::Result<Option<OrgId>> {
        self.default_org
            .get_or_try_init(|| store::orgs::id_by_name(pool, store::orgs::DEFAULT_ORG))
            .await
            .cloned()
    }
}
