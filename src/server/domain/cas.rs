//! Certificate authorities: CA certificates a product trusts for its devices, unique by name
//! within the product and by certificate in the whole service (a device certificate must lead
//! to exactly one product), each with its JITP defaults.

use super::lookup::{archived, find_cohort, product_or_404, visible_product};
use super::x509::{self, CertInfo};
use super::{Validator, audit, check_revision, unique_or};
use crate::api::{AuditAction, validate};
use crate::api::{
    CaId, CertificateAuthority, CohortId, CreateCa, JitpSettings, OrgId, Page, Product, UpdateCa,
};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::{self, Conn, Pool};

fn duplicate_name(product: &Product, name: &str) -> ApiError {
    ApiError::conflict(format!(
        "product `{}` already has a certificate authority named `{name}`",
        product.name
    ))
    .with_hint("choose another name, or use the existing one")
}

fn ca_name(value: &str) -> Result<(), String> {
    validate::name("certificate authority", CaId::PREFIX, value)
}

async fn ca_or_404(
    conn: &mut Conn,
    org_id: &OrgId,
    product: &Product,
    reference: &str,
) -> ApiResult<CertificateAuthority> {
    let found = match CaId::parse(reference) {
        Some(id) => store::cas::get(conn, org_id, &id)
            .await?
            .filter(|ca| ca.product_id == product.id),
        None => store::cas::get_by_name(conn, &product.id, reference).await?,
    };
    found.ok_or_else(|| {
        ApiError::not_found(format!(
            "product `{}` has no certificate authority `{reference}`",
            product.name
        ))
        .with_hint(format!(
            "list its certificate authorities with `fleet ca list --product {}`",
            product.name
        ))
    })
}

/// Parses an uploaded CA certificate and applies the rules of a CA: one certificate, a CA
/// that may sign certificates, not expired.
fn ca_certificate(pem: &str) -> ApiResult<CertInfo> {
    let refuse = |message: String| ApiError::invalid_field("certificate", message);
    let info = x509::parse_one(pem).map_err(|why| refuse(format!("the certificate {why}")))?;
    if !info.is_ca {
        return Err(refuse(format!(
            "`{}` is not a CA certificate: its basic constraints do not say `CA:TRUE`",
            info.subject
        ))
        .with_hint("register the certificate of the CA that issues device certificates, not a device's own"));
    }
    if !info.may_sign_certificates {
        return Err(refuse(format!(
            "`{}` may not sign certificates: its key usage lacks `keyCertSign`",
            info.subject
        )));
    }
    let now = store::now();
    if info.not_after < now {
        return Err(refuse(format!(
            "`{}` expired at {}",
            info.subject,
            info.not_after.to_rfc3339()
        ))
        .with_hint("renew the CA certificate (same key, new validity) and register the new one"));
    }
    Ok(info)
}

/// 409 for a certificate some CA already holds: naming its product only when the caller may
/// see that product.
async fn fingerprint_refusal(
    conn: &mut Conn,
    principal: &Principal,
    fingerprint: &str,
) -> ApiResult<Option<ApiError>> {
    let Some((org, holder)) = store::cas::by_fingerprint(conn, fingerprint).await? else {
        return Ok(None);
    };
    let visible = org == principal.org_id && principal.sees(&holder.product_id);
    Ok(Some(if visible {
        ApiError::conflict(format!(
            "this certificate is already registered as certificate authority `{}` of product `{}`; \
             a CA can belong to one product only",
            holder.name, holder.product
        ))
        .with_hint(format!(
            "show it with `fleet ca show {} --product {}`",
            holder.name, holder.product
        ))
    } else {
        ApiError::conflict(
            "this certificate is already registered as a certificate authority; a CA can \
             belong to one product only",
        )
    }))
}

/// The JITP cohort a body names: a cohort of the CA's own product (422 otherwise).
async fn jitp_cohort(
    conn: &mut Conn,
    principal: &Principal,
    product: &Product,
    reference: &str,
) -> ApiResult<CohortId> {
    if let Some(cohort) = find_cohort(conn, &principal.org_id, product, reference).await? {
        return Ok(cohort.id);
    }
    let elsewhere = match CohortId::parse(reference) {
        Some(id) => store::cohorts::get(conn, &principal.org_id, &id)
            .await?
            .filter(|other| principal.sees(&other.product_id)),
        None => None,
    };
    let message = match elsewhere {
        Some(other) => format!(
            "cohort `{}` belongs to product `{}`, not `{}`; JITP puts new devices in a cohort of the CA's product",
            other.name, other.product, product.name
        ),
        None => format!("product `{}` has no cohort `{reference}`", product.name),
    };
    Err(
        ApiError::invalid_field("jitp.cohort", message).with_hint(format!(
            "list the product's cohorts with `fleet cohort list --product {}`",
            product.name
        )),
    )
}

fn check_jitp(v: &mut Validator, jitp: &JitpSettings) {
    v.check("jitp.tags", validate::tags(&jitp.tags));
    if let Some(target) = &jitp.target {
        v.check("jitp.target", validate::target(target));
    }
    if let Some(description) = &jitp.description {
        v.check("jitp.description", validate::description(description));
    }
}

/// One page of the CAs the caller sees, of one product (name or ID) or of all.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    product: Option<&str>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<CertificateAuthority>> {
    let page = PageRequest::new(limit, cursor, CaId::parse)?;
    let org_id = &principal.org_id;
    let mut conn = pool.acquire().await?;
    let product = match product {
        Some(reference) => Some(visible_product(&mut conn, principal, reference).await?),
        None => None,
    };
    let filter = store::cas::ListFilter {
        product_id: product.as_ref().map(|p| &p.id),
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = store::cas::list_within(&mut conn, org_id, &filter, principal.scope()).await?;
    Ok(page.finish(rows, |ca| ca.id.as_str()))
}

/// Registers a CA certificate in `product`, which must not be archived.
pub async fn create(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    body: CreateCa,
) -> ApiResult<CertificateAuthority> {
    let jitp = body.jitp.clone().unwrap_or_default();
    let mut v = Validator::default();
    v.check("name", ca_name(&body.name));
    check_jitp(&mut v, &jitp);
    v.finish()?;
    let info = ca_certificate(&body.certificate)?;
    let tags = validate::normalize_tags(jitp.tags.clone());
    let description = jitp.description.clone().unwrap_or_default();

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    if product.archived {
        return Err(archived(&product, "certificate authorities"));
    }
    if store::cas::get_by_name(&mut tx, &product.id, &body.name)
        .await?
        .is_some()
    {
        return Err(duplicate_name(&product, &body.name));
    }
    if let Some(refusal) = fingerprint_refusal(&mut tx, principal, &info.fingerprint).await? {
        return Err(refusal);
    }
    let cohort_id = match &jitp.cohort {
        Some(reference) => Some(jitp_cohort(&mut tx, principal, &product, reference).await?),
        None => None,
    };
    let id = CaId::generate();
    let row = store::cas::NewCa {
        name: &body.name,
        certificate_pem: &info.pem,
        fingerprint: &info.fingerprint,
        subject_der: &info.subject_der,
        subject: &info.subject,
        not_before: info.not_before,
        not_after: info.not_after,
        enabled: body.enabled.unwrap_or(true),
        settings: store::cas::Settings {
            jitp_enabled: jitp.enabled,
            jitp_cohort_id: cohort_id.as_ref(),
            jitp_tags: &tags,
            jitp_target: jitp.target.as_deref(),
            jitp_description: &description,
        },
    };
    store::cas::insert(&mut tx, org, &id, &product.id, &row, store::now())
        .await
        .map_err(|err| unique_or(err, || duplicate_name(&product, &body.name)))?;
    let ca = ca_or_404(&mut tx, org, &product, id.as_str()).await?;
    let details = serde_json::json!({
        "name": ca.name, "subject": ca.subject, "fingerprint": ca.fingerprint,
        "enabled": ca.enabled, "jitp": ca.jitp.enabled,
    });
    audit::record(
        &mut tx,
        principal,
        AuditAction::CaCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(ca)
}

/// The CA `ca` (name or ID) of `product`.
pub async fn get(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    ca: &str,
) -> ApiResult<CertificateAuthority> {
    let org = &principal.org_id;
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, org, product).await?;
    ca_or_404(&mut conn, org, &product, ca).await
}

/// Enables or disables a CA or changes its JITP settings, at revision `if_match` (when given).
pub async fn update(
    pool: &Pool,
    principal: &Principal,
    (product, ca): (&str, &str),
    if_match: Option<i64>,
    body: UpdateCa,
) -> ApiResult<CertificateAuthority> {
    let patch = body.jitp.unwrap_or_default();
    let mut v = Validator::default();
    if let Some(tags) = &patch.tags {
        v.check("jitp.tags", validate::tags(tags));
    }
    if let Some(Some(target)) = &patch.target {
        v.check("jitp.target", validate::target(target));
    }
    if let Some(description) = &patch.description {
        v.check("jitp.description", validate::description(description));
    }
    v.finish()?;

    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    let current = ca_or_404(&mut tx, org, &product, ca).await?;
    let what = format!("certificate authority `{}`", current.name);
    check_revision(if_match, &what, current.revision)?;
    let cohort_id = match &patch.cohort {
        None => current.jitp.cohort_id.clone(),
        Some(None) => None,
        Some(Some(reference)) => Some(jitp_cohort(&mut tx, principal, &product, reference).await?),
    };
    let tags = match patch.tags {
        Some(tags) => validate::normalize_tags(tags),
        None => current.jitp.tags.clone(),
    };
    let target = match patch.target {
        Some(target) => target,
        None => current.jitp.target.clone(),
    };
    let description = patch
        .description
        .unwrap_or_else(|| current.jitp.description.clone());
    let enabled = body.enabled.unwrap_or(current.enabled);
    let jitp_enabled = patch.enabled.unwrap_or(current.jitp.enabled);
    let unchanged = enabled == current.enabled
        && jitp_enabled == current.jitp.enabled
        && cohort_id == current.jitp.cohort_id
        && tags == current.jitp.tags
        && target == current.jitp.target
        && description == current.jitp.description;
    if unchanged {
        return Ok(current);
    }
    let settings = store::cas::Settings {
        jitp_enabled,
        jitp_cohort_id: cohort_id.as_ref(),
        jitp_tags: &tags,
        jitp_target: target.as_deref(),
        jitp_description: &description,
    };
    store::cas::update(&mut tx, &current.id, enabled, &settings, store::now()).await?;
    let ca = ca_or_404(&mut tx, org, &product, current.id.as_str()).await?;
    let details = serde_json::json!({
        "name": ca.name, "enabled": ca.enabled, "jitp": ca.jitp,
    });
    audit::record(
        &mut tx,
        principal,
        AuditAction::CaUpdated,
        ca.id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(ca)
}

/// Deletes a CA at revision `if_match` (when given). Device certificates it issued stay
/// registered, no longer linked to a CA.
pub async fn delete(
    pool: &Pool,
    principal: &Principal,
    (product, ca): (&str, &str),
    if_match: Option<i64>,
) -> ApiResult<()> {
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    let ca = ca_or_404(&mut tx, org, &product, ca).await?;
    let what = format!("certificate authority `{}`", ca.name);
    check_revision(if_match, &what, ca.revision)?;
    store::cas::delete(&mut tx, &ca.id).await?;
    let details = serde_json::json!({ "name": ca.name, "fingerprint": ca.fingerprint });
    audit::record(
        &mut tx,
        principal,
        AuditAction::CaDeleted,
        ca.id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
