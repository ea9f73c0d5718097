//! Device certificates: a device's X.509 client certificates. Registered ones must name the
//! device (subject CN = its identifier) and be issued by a CA of the device's product; each
//! certificate is registered once in the whole service. Revoked ones are kept, so the device
//! API can tell "revoked" from "unknown".

use super::lookup::unknown_device;
use super::x509::{self, CertInfo};
use super::{audit, unique_or};
use crate::api::{
    AddDeviceCert, CaId, Device, DeviceCertId, DeviceCertSource, DeviceCertificate, OrgId, Page,
    RevokeDeviceCert,
};
use crate::api::{AuditAction, validate};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::{self, Conn, Pool};

async fn device_or_404(conn: &mut Conn, org_id: &OrgId, reference: &str) -> ApiResult<Device> {
    store::devices::resolve(conn, org_id, reference)
        .await?
        .ok_or_else(|| unknown_device(reference))
}

fn refuse(message: String) -> ApiError {
    ApiError::invalid_field("certificate", message)
}

/// 409 for a certificate already registered: naming its device only when the caller may see it.
async fn duplicate(
    conn: &mut Conn,
    principal: &Principal,
    fingerprint: &str,
) -> ApiResult<Option<ApiError>> {
    let Some((org, holder)) = store::device_certs::by_fingerprint(conn, fingerprint).await? else {
        return Ok(None);
    };
    let visible = org == principal.org_id
        && match store::devices::resolve(conn, &org, holder.device_id.as_str()).await? {
            Some(device) => principal.sees(&device.product_id),
            None => false,
        };
    Ok(Some(if visible {
        ApiError::conflict(format!(
            "this certificate is already registered for device `{}` ({})",
            holder.device, holder.id
        ))
        .with_hint(format!(
            "list its certificates with `fleet device cert list {}`",
            holder.device
        ))
    } else {
        ApiError::conflict("this certificate is already registered for a device")
    }))
}

/// The registered CA of `device`'s product that issued `cert`: its subject is the
/// certificate's issuer and its key verifies the certificate's signature.
async fn issuing_ca(conn: &mut Conn, device: &Device, cert: &CertInfo) -> ApiResult<CaId> {
    let candidates =
        store::cas::issuers_in_product(conn, &device.product_id, &cert.issuer_der).await?;
    for (id, pem) in &candidates {
        let verified = x509::parse_one(pem).is_ok_and(|ca| x509::signed_by(&cert.der, &ca.der));
        if verified {
            return Ok(id.clone());
        }
    }
    let hint = format!(
        "register the issuing CA first: fleet ca add NAME --product {} --cert ca.pem",
        device.product
    );
    Err(if candidates.is_empty() {
        refuse(format!(
            "the certificate is not issued by a CA of product `{}` (its issuer is `{}`)",
            device.product, cert.issuer
        ))
        .with_hint(hint)
    } else {
        refuse(format!(
            "the certificate names `{}` of product `{}` as its issuer, but that CA's key does \
             not verify its signature",
            cert.issuer, device.product
        ))
        .with_hint(hint)
    })
}

/// Registers a device certificate for `device` (name or ID).
pub async fn add(
    pool: &Pool,
    principal: &Principal,
    device: &str,
    body: AddDeviceCert,
) -> ApiResult<DeviceCertificate> {
    let cert = x509::parse_one(&body.certificate)
        .map_err(|why| refuse(format!("the certificate {why}")))?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let device = device_or_404(&mut tx, org, device).await?;
    if cert.common_name.as_deref() != Some(device.identifier.as_str()) {
        let found = cert
            .common_name
            .as_deref()
            .map_or_else(|| "no common name".to_owned(), |cn| format!("`{cn}`"));
        return Err(refuse(format!(
            "the certificate's subject CN is {found}, but the device's identifier is `{}`; \
             a device certificate must name its device",
            device.identifier
        ))
        .with_hint(format!(
            "issue one for it with `fleet device cert issue {} --ca DIR --out DIR`",
            device.identifier
        )));
    }
    if let Some(refusal) = duplicate(&mut tx, principal, &cert.fingerprint).await? {
        return Err(refusal);
    }
    let ca_id = issuing_ca(&mut tx, &device, &cert).await?;
    let id = DeviceCertId::generate();
    let row = store::device_certs::NewDeviceCert {
        ca_id: Some(&ca_id),
        fingerprint: &cert.fingerprint,
        certificate_pem: &cert.pem,
        subject: &cert.subject,
        serial: &cert.serial,
        not_before: cert.not_before,
        not_after: cert.not_after,
        source: DeviceCertSource::Registered,
    };
    store::device_certs::insert(&mut tx, org, &id, &device.id, &row, store::now())
        .await
        .map_err(|err| {
            unique_or(err, || {
                ApiError::conflict("this certificate is already registered for a device")
            })
        })?;
    let added = store::device_certs::get(&mut tx, &device.id, &id)
        .await?
        .ok_or_else(ApiError::internal)?;
    let details = serde_json::json!({
        "identifier": device.identifier, "certificate_id": added.id,
        "fingerprint": added.fingerprint, "ca_id": added.ca_id,
    });
    audit::record(
        &mut tx,
        principal,
        AuditAction::DeviceCertAdded,
        device.id.as_str(),
        &device.product_id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// One page of `device`'s certificates, oldest first, revoked ones included.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    device: &str,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<DeviceCertificate>> {
    let page = PageRequest::new(limit, cursor, DeviceCertId::parse)?;
    let mut conn = pool.acquire().await?;
    let device = device_or_404(&mut conn, &principal.org_id, device).await?;
    let after = page.after.as_deref();
    let rows = store::device_certs::list(&mut conn, &device.id, after, page.fetch()).await?;
    Ok(page.finish(rows, |c| c.id.as_str()))
}

/// Revokes a certificate of `device`; revoking a revoked one changes nothing.
pub async fn revoke(
    pool: &Pool,
    principal: &Principal,
    (device, cert): (&str, &str),
    body: RevokeDeviceCert,
) -> ApiResult<DeviceCertificate> {
    if let Some(reason) = &body.reason {
        validate::description(reason).map_err(|m| ApiError::invalid_field("reason", m))?;
    }
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let device = device_or_404(&mut tx, org, device).await?;
    let not_found = || {
        ApiError::not_found(format!(
            "device `{}` has no certificate `{cert}`",
            device.identifier
        ))
        .with_hint(format!(
            "list its certificates with `fleet device cert list {}`",
            device.identifier
        ))
    };
    let id = DeviceCertId::parse(cert).ok_or_else(not_found)?;
    let current = store::device_certs::get(&mut tx, &device.id, &id)
        .await?
        .ok_or_else(not_found)?;
    if current.revoked_at.is_some() {
        return Ok(current);
    }
    store::device_certs::revoke(&mut tx, &id, body.reason.as_deref(), store::now()).await?;
    let revoked = store::device_certs::get(&mut tx, &device.id, &id)
        .await?
        .ok_or_else(not_found)?;
    let details = serde_json::json!({
        "identifier": device.identifier, "certificate_id": revoked.id,
        "fingerprint": revoked.fingerprint, "reason": revoked.revoked_reason,
    });
    audit::record(
        &mut tx,
        principal,
        AuditAction::DeviceCertRevoked,
        device.id.as_str(),
        &device.product_id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}
