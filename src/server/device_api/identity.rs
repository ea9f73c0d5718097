//! From a presented client certificate to a device, or a refusal: the certificate's own row
//! (revoked?), the registered CA it chains to (unknown, expired, disabled?), then the device its
//! subject CN names in the CA's product: admitted (the certificate recorded on first use, a
//! moved device's `needs_provisioning` cleared), refused, or provisioned just in time.

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, UnixTime};

use super::chain::{self, ChainCheck, Presented};
use super::jitp::{self, Outcome, Provisioner};
use super::jitp_write::Provisioned;
use super::principal::DevicePrincipal;
use super::refusal::{Reason, Refusal};
use crate::api::{CohortId, DeviceId, OrgId, ProductId, validate};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::{self, Pool, device_identity as rows};

/// How many times a write that lost a race (the same device provisioned, the same certificate
/// recorded by another connection at once) is retried from the top.
const RACE_RETRIES: usize = 3;

pub type Resolved = Result<DevicePrincipal, Box<Refusal>>;

/// Resolves `presented` to the device it admits. Database failures are errors (the device
/// may retry); everything else is an admission or a refusal.
pub async fn resolve(
    pool: &Pool,
    provisioner: &Provisioner,
    presented: &Presented,
) -> ApiResult<Resolved> {
    for _ in 0..RACE_RETRIES {
        match attempt(pool, provisioner, presented).await? {
            Attempt::Done(resolved) => return Ok(resolved),
            Attempt::Raced => continue,
        }
    }
    Err(ApiError::internal())
}

enum Attempt {
    Done(Resolved),
    /// Another request wrote the same device or certificate meanwhile: look again.
    Raced,
}

fn refused(reason: Reason, presented: &Presented, detail: String, hint: &str) -> Attempt {
    let mut refusal = Refusal::new(reason, detail, hint);
    refusal.fingerprint = Some(presented.fingerprint.clone());
    refusal.common_name = presented.common_name.clone();
    Attempt::Done(Err(Box::new(refusal)))
}

fn in_ca(mut attempt: Attempt, ca: &rows::CaRow, device_id: Option<&str>) -> Attempt {
    if let Attempt::Done(Err(refusal)) = &mut attempt {
        refusal.org_id = OrgId::parse(&ca.org_id);
        refusal.product_id = ProductId::parse(&ca.product_id);
        refusal.ca_id = Some(ca.id.clone());
        refusal.device_id = device_id.map(str::to_owned);
    }
    attempt
}

async fn attempt(
    pool: &Pool,
    provisioner: &Provisioner,
    presented: &Presented,
) -> ApiResult<Attempt> {
    let mut conn = pool.acquire().await?;
    let known = rows::cert_by_fingerprint(&mut conn, &presented.fingerprint).await?;
    if let Some(cert) = &known
        && cert.revoked_at.is_some()
    {
        let why = cert.revoked_reason.as_deref().unwrap_or("no reason given");
        let mut attempt = refused(
            Reason::Revoked,
            presented,
            format!("certificate {} was revoked ({why})", presented.fingerprint),
            "the device needs a new certificate",
        );
        if let Attempt::Done(Err(refusal)) = &mut attempt {
            refusal.org_id = OrgId::parse(&cert.org_id);
            refusal.device_id = Some(cert.device_id.clone());
        }
        return Ok(attempt);
    }
    let candidates = rows::cas_by_subject(&mut conn, &presented.issuers).await?;
    let now = UnixTime::now();
    let mut expired = false;
    let mut trusted = None;
    for ca in &candidates {
        let Ok(ca_der) = CertificateDer::from_pem_slice(ca.certificate_pem.as_bytes()) else {
            tracing::warn!(ca = %ca.id, "a registered CA certificate could not be read");
            continue;
        };
        match chain::check(presented, &ca_der, now) {
            ChainCheck::Trusted => {
                trusted = Some(ca);
                break;
            }
            ChainCheck::Expired => expired = true,
            ChainCheck::Untrusted => {}
        }
    }
    let Some(ca) = trusted else {
        return Ok(if expired {
            refused(
                Reason::Expired,
                presented,
                format!(
                    "certificate {} is not valid now (valid {} to {})",
                    presented.fingerprint, presented.not_before, presented.not_after
                ),
                "the device needs a certificate that is valid now (check its clock too)",
            )
        } else {
            refused(
                Reason::UnknownCa,
                presented,
                format!(
                    "certificate {} (issuer of `{}`) chains to no registered CA",
                    presented.fingerprint, presented.subject
                ),
                "register the CA that issued it with the device's product, or issue the \
                 device a certificate under a registered CA",
            )
        });
    };
    let now_utc = store::now();
    if ca.not_after < now_utc || ca.not_before > now_utc {
        return Ok(in_ca(
            refused(
                Reason::Expired,
                presented,
                format!("its CA {} is not valid now", ca.id),
                "register a current CA certificate for the product",
            ),
            ca,
            None,
        ));
    }
    if !ca.enabled {
        return Ok(in_ca(
            refused(
                Reason::CaDisabled,
                presented,
                format!("its CA {} is disabled", ca.id),
                "enable the CA to admit its devices again",
            ),
            ca,
            None,
        ));
    }
    let Some(identifier) = presented.common_name.clone() else {
        return Ok(in_ca(
            refused(
                Reason::BadCertificate,
                presented,
                "the certificate's subject has no common name (CN), the device identifier"
                    .to_owned(),
                "issue device certificates with CN=<device identifier>",
            ),
            ca,
            None,
        ));
    };
    let device = rows::device_by_identifier(&mut conn, &ca.org_id, &identifier).await?;
    drop(conn);
    match device {
        Some(device) => admit_known(pool, presented, ca, known.as_ref(), device).await,
        None => provision(provisioner, presented, ca, known.as_ref(), &identifier).await,
    }
}

/// A device the CN names exists: admitted when it is in the CA's product and the certificate
/// is not another device's or older than the device's last move.
async fn admit_known(
    pool: &Pool,
    presented: &Presented,
    ca: &rows::CaRow,
    known: Option<&rows::CertRow>,
    device: rows::DeviceRow,
) -> ApiResult<Attempt> {
    let refuse = |reason, detail: String, hint: &str| {
        in_ca(
            refused(reason, presented, detail, hint),
            ca,
            Some(&device.id),
        )
    };
    if let Some(cert) = known
        && cert.device_id != device.id
    {
        return Ok(refuse(
            Reason::OtherDevice,
            format!(
                "certificate {} belongs to another device than `{}`",
                presented.fingerprint, device.identifier
            ),
            "each device needs a certificate of its own",
        ));
    }
    if device.product_id != ca.product_id {
        return Ok(refuse(
            Reason::OtherProduct,
            format!(
                "device `{}` belongs to another product than CA {} (it was moved?)",
                device.identifier, ca.id
            ),
            "a moved device needs a certificate under a CA of its new product",
        ));
    }
    if let (Some(cert), Some(revoked_at)) = (known, device.credentials_revoked_at)
        && cert.created_at <= revoked_at
    {
        return Ok(refuse(
            Reason::Revoked,
            format!(
                "certificate {} was revoked when device `{}` was moved",
                presented.fingerprint, device.identifier
            ),
            "a moved device needs a new certificate under a CA of its product",
        ));
    }
    if known.is_none() || device.needs_provisioning {
        let pem = presented.leaf_pem();
        let mut tx = store::begin_write(pool).await?;
        let now = store::now();
        if known.is_none() {
            let inserted =
                rows::insert_presented(&mut tx, &new_cert(presented, &pem, ca, &device.id), now)
                    .await;
            match inserted {
                Ok(_) => {}
                Err(err) if store::is_unique_violation(&err) => return Ok(Attempt::Raced),
                Err(err) => return Err(err.into()),
            }
        }
        if rows::mark_provisioned(&mut tx, &device.id, now).await? {
            record_provisioned(&mut tx, presented, ca, &device.id, &device.identifier).await?;
        }
        tx.commit().await?;
    }
    Ok(Attempt::Done(Ok(principal(
        &device.org_id,
        &device.id,
        &device.identifier,
        &device.product_id,
        device.cohort_id.as_deref(),
    )?)))
}

/// No device has the CN: created in the CA's product with its JITP defaults, when the CA
/// provisions just in time.
async fn provision(
    provisioner: &Provisioner,
    presented: &Presented,
    ca: &rows::CaRow,
    known: Option<&rows::CertRow>,
    identifier: &str,
) -> ApiResult<Attempt> {
    if known.is_some() {
        // Recorded for a device that no longer has this identifier.
        return Ok(in_ca(
            refused(
                Reason::OtherDevice,
                presented,
                format!(
                    "certificate {} belongs to a device whose identifier is no longer `{identifier}`",
                    presented.fingerprint
                ),
                "each device needs a certificate with its current identifier as CN",
            ),
            ca,
            None,
        ));
    }
    if !ca.jitp_enabled {
        return Ok(in_ca(
            refused(
                Reason::NotRegistered,
                presented,
                format!(
                    "no device `{identifier}` is registered and CA {} does not provision just in time",
                    ca.id
                ),
                "register the device first, or turn on JITP for its CA",
            ),
            ca,
            None,
        ));
    }
    if let Err(problem) = validate::device_identifier(identifier) {
        return Ok(in_ca(
            refused(
                Reason::InvalidIdentifier,
                presented,
                format!(
                    "the certificate's CN `{identifier}` is no valid device identifier: {problem}"
                ),
                "issue device certificates with CN=<device identifier>",
            ),
            ca,
            None,
        ));
    }
    let (Some(org_id), Some(product_id)) =
        (OrgId::parse(&ca.org_id), ProductId::parse(&ca.product_id))
    else {
        return Err(ApiError::internal());
    };
    let request = jitp::Request {
        ca: ca.clone(),
        org_id,
        product_id,
        identifier: identifier.to_owned(),
        fingerprint: presented.fingerprint.clone(),
        pem: presented.leaf_pem(),
        subject: presented.subject.clone(),
        serial: presented.serial.clone(),
        not_before: presented.not_before,
        not_after: presented.not_after,
    };
    match provisioner.provision(request).await? {
        Outcome::Provisioned(principal) => Ok(Attempt::Done(Ok(principal))),
        Outcome::Raced => Ok(Attempt::Raced),
        Outcome::ProductArchived => Ok(in_ca(
            refused(
                Reason::ProductArchived,
                presented,
                "the CA's product is archived and accepts no new devices".to_owned(),
                "unarchive the product to provision devices into it",
            ),
            ca,
            None,
        )),
    }
}

fn new_cert<'a>(
    presented: &'a Presented,
    pem: &'a str,
    ca: &'a rows::CaRow,
    device_id: &'a str,
) -> rows::NewCert<'a> {
    rows::NewCert {
        org_id: &ca.org_id,
        device_id,
        ca_id: &ca.id,
        fingerprint: &presented.fingerprint,
        pem,
        subject: &presented.subject,
        serial: &presented.serial,
        not_before: presented.not_before,
        not_after: presented.not_after,
    }
}

async fn record_provisioned(
    conn: &mut store::Conn,
    presented: &Presented,
    ca: &rows::CaRow,
    device_id: &str,
    identifier: &str,
) -> sqlx::Result<()> {
    let Some(org_id) = OrgId::parse(&ca.org_id) else {
        return Err(store::corrupt_id(&ca.org_id));
    };
    let product_id = ProductId::parse(&ca.product_id);
    Provisioned {
        org_id: &org_id,
        product_id: product_id.as_ref(),
        device_id,
        identifier,
        ca_id: &ca.id,
        fingerprint: &presented.fingerprint,
        created: false,
    }
    .event()
    .record(conn)
    .await?;
    Ok(())
}

fn principal(
    org_id: &str,
    device_id: &str,
    identifier: &str,
    product_id: &str,
    cohort_id: Option<&str>,
) -> ApiResult<DevicePrincipal> {
    match (
        OrgId::parse(org_id),
        DeviceId::parse(device_id),
        ProductId::parse(product_id),
    ) {
        (Some(org_id), Some(device_id), Some(product_id)) => Ok(DevicePrincipal {
            org_id,
            device_id,
            identifier: identifier.to_owned(),
            product_id,
            cohort_id: cohort_id.and_then(CohortId::parse),
        }),
        _ => {
            tracing::error!(device = device_id, "a device row holds a malformed ID");
            Err(ApiError::internal())
        }
    }
}
