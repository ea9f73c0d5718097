//! Artifacts (a product's firmware types, e.g. `app`; unique by name in the product) and their
//! versions (unique by version string in the artifact).

use super::check_active;
use crate::api::firmware::validate_version;
use crate::api::{
    Artifact, ArtifactId, ArtifactVersion, AuditAction, CreateArtifact, CreateVersion, Page,
    Product, VersionId, validate,
};
use crate::server::auth::Principal;
use crate::server::domain::lookup::product_or_404;
use crate::server::domain::{Validator, audit, unique_or};
use crate::server::error::{ApiError, ApiResult};
use crate::server::pagination::PageRequest;
use crate::server::store::firmware::{self as fw, Page as Bounds};
use crate::server::store::{self, Conn, Pool};

pub(super) async fn artifact_or_404(
    conn: &mut Conn,
    product: &Product,
    reference: &str,
) -> ApiResult<Artifact> {
    fw::artifact(conn, &product.id, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product `{}` has no artifact `{reference}`",
                product.name
            ))
            .with_hint(format!(
                "list its artifacts with `fleet firmware list --product {}`",
                product.name
            ))
        })
}

pub(super) async fn version_or_404(
    conn: &mut Conn,
    artifact: &Artifact,
    reference: &str,
) -> ApiResult<ArtifactVersion> {
    fw::version(conn, &artifact.id, reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "artifact `{}` has no version `{reference}`",
                artifact.name
            ))
        })
}

/// One page of a product's artifacts.
pub async fn list(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<Artifact>> {
    let page = PageRequest::new(limit, cursor, ArtifactId::parse)?;
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::artifacts(&mut conn, &product.id, &bounds).await?;
    Ok(page.finish(rows, |a| a.id.as_str()))
}

/// Creates an artifact in `product`, which must not be archived.
pub async fn create(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    body: CreateArtifact,
) -> ApiResult<Artifact> {
    let description = body.description.unwrap_or_default();
    let mut v = Validator::default();
    v.check(
        "name",
        validate::name("artifact", ArtifactId::PREFIX, &body.name),
    );
    v.check("description", validate::description(&description));
    v.finish()?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    check_active(&product)?;
    let duplicate = || {
        ApiError::conflict(format!(
            "product `{}` already has an artifact named `{}`",
            product.name, body.name
        ))
    };
    if fw::artifact(&mut tx, &product.id, &body.name)
        .await?
        .is_some()
    {
        return Err(duplicate());
    }
    let id = ArtifactId::generate();
    fw::insert_artifact(
        &mut tx,
        org,
        &id,
        &product.id,
        &body.name,
        &description,
        store::now(),
    )
    .await
    .map_err(|err| unique_or(err, duplicate))?;
    let artifact = artifact_or_404(&mut tx, &product, id.as_str()).await?;
    let details = serde_json::json!({ "name": artifact.name });
    audit::record(
        &mut tx,
        principal,
        AuditAction::ArtifactCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(artifact)
}

/// The artifact `artifact` (name or ID) of `product`.
pub async fn get(
    pool: &Pool,
    principal: &Principal,
    product: &str,
    artifact: &str,
) -> ApiResult<Artifact> {
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    artifact_or_404(&mut conn, &product, artifact).await
}

/// One page of an artifact's versions, oldest first.
pub async fn list_versions(
    pool: &Pool,
    principal: &Principal,
    (product, artifact): (&str, &str),
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<ArtifactVersion>> {
    let page = PageRequest::new(limit, cursor, VersionId::parse)?;
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    let artifact = artifact_or_404(&mut conn, &product, artifact).await?;
    let bounds = Bounds {
        after: page.after.as_deref(),
        limit: page.fetch(),
    };
    let rows = fw::versions(&mut conn, &artifact.id, &bounds).await?;
    Ok(page.finish(rows, |v| v.id.as_str()))
}

/// Creates a version of an artifact of `product`, which must not be archived.
pub async fn create_version(
    pool: &Pool,
    principal: &Principal,
    (product, artifact): (&str, &str),
    body: CreateVersion,
) -> ApiResult<ArtifactVersion> {
    let description = body.description.unwrap_or_default();
    let mut v = Validator::default();
    v.check("version", validate_version(&body.version));
    if VersionId::parse(&body.version).is_some() {
        v.check(
            "version",
            Err("a version must not look like a version ID".into()),
        );
    }
    v.check("description", validate::description(&description));
    v.finish()?;
    let org = &principal.org_id;
    let mut tx = store::begin_write(pool).await?;
    let product = product_or_404(&mut tx, org, product).await?;
    check_active(&product)?;
    let artifact = artifact_or_404(&mut tx, &product, artifact).await?;
    let duplicate = || {
        ApiError::conflict(format!(
            "artifact `{}` already has version `{}`",
            artifact.name, body.version
        ))
    };
    if fw::version(&mut tx, &artifact.id, &body.version)
        .await?
        .is_some()
    {
        return Err(duplicate());
    }
    let id = VersionId::generate();
    fw::insert_version(
        &mut tx,
        org,
        &id,
        &artifact,
        &body.version,
        &description,
        store::now(),
    )
    .await
    .map_err(|err| unique_or(err, duplicate))?;
    let version = version_or_404(&mut tx, &artifact, id.as_str()).await?;
    let details = serde_json::json!({ "artifact": artifact.name, "version": version.version });
    audit::record(
        &mut tx,
        principal,
        AuditAction::VersionCreated,
        id.as_str(),
        &product.id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// The version `version` (string or ID) of an artifact of `product`.
pub async fn get_version(
    pool: &Pool,
    principal: &Principal,
    (product, artifact, version): (&str, &str, &str),
) -> ApiResult<ArtifactVersion> {
    let mut conn = pool.acquire().await?;
    let product = product_or_404(&mut conn, &principal.org_id, product).await?;
    let artifact = artifact_or_404(&mut conn, &product, artifact).await?;
    version_or_404(&mut conn, &artifact, version).await
}
