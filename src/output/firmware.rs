//! How firmware resources look in tables and `show` views, and what `fleet firmware push`
//! prints as its result.

use serde::Serialize;

use super::resources::{Resource, yes_no};
use super::table::{show_time, table_time};
use super::units::human_bytes;
use crate::api::{Binary, Bundle, ProductFirmwarePolicy, Release, SigningKey};

/// Exact bytes, and in the units progress bars use from 1 KiB on.
fn size(bytes: u64) -> String {
    if bytes >= 1024 {
        format!("{bytes} ({})", human_bytes(bytes))
    } else {
        bytes.to_string()
    }
}

impl Resource for Binary {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &[
            "PRODUCT", "ARTIFACT", "VERSION", "TARGET", "STATE", "SIZE", "SIGNED", "ID",
        ]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.product.clone(),
            self.artifact.clone(),
            self.version.clone(),
            self.target.clone(),
            self.state.as_str().to_owned(),
            human_bytes(self.size),
            self.signatures.len().to_string(),
            self.id.to_string(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let keys: Vec<&str> = self
            .signatures
            .iter()
            .map(|s| s.key_name.as_str())
            .collect();
        vec![
            ("id", self.id.to_string()),
            ("product", format!("{} ({})", self.product, self.product_id)),
            ("artifact", self.artifact.clone()),
            ("version", self.version.clone()),
            ("target", self.target.clone()),
            ("state", self.state.as_str().to_owned()),
            ("size", size(self.size)),
            ("sha256", self.sha256.clone()),
            (
                "parts",
                format!("{} of {} bytes", self.part_count, self.part_size),
            ),
            (
                "signed by",
                if keys.is_empty() {
                    "-".into()
                } else {
                    keys.join(", ")
                },
            ),
            ("created", show_time(self.created_at)),
            ("ready", self.ready_at.map_or("-".into(), show_time)),
        ]
    }
}

impl Resource for SigningKey {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &["NAME", "ID", "FINGERPRINT", "CREATED"]
    }

    fn wide_only() -> &'static [&'static str] {
        &["ID"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id.to_string(),
            self.fingerprint.clone(),
            table_time(self.created_at),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("id", self.id.to_string()),
            ("public key", self.public_key.clone()),
            ("fingerprint", self.fingerprint.clone()),
            ("created", show_time(self.created_at)),
        ]
    }
}

impl Resource for Bundle {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &["NAME", "ID", "PRODUCT", "BINARIES"]
    }

    fn wide_only() -> &'static [&'static str] {
        &["ID"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id.to_string(),
            self.product.clone(),
            self.binaries.len().to_string(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("name", self.name.clone()),
            ("id", self.id.to_string()),
            ("product", format!("{} ({})", self.product, self.product_id)),
            ("description", self.description.clone()),
            ("created", show_time(self.created_at)),
        ];
        for item in &self.binaries {
            let signed = if item.signatures > 0 {
                "signed"
            } else {
                "unsigned"
            };
            fields.push((
                "binary",
                format!(
                    "{} {} {} ({}, {signed})",
                    item.artifact, item.version, item.target, item.binary_id
                ),
            ));
        }
        fields
    }
}

impl Resource for Release {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &[
            "ID", "COHORT", "BUNDLE", "ROLLOUT", "STATE", "REQUIRED", "CREATED",
        ]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.cohort.clone(),
            self.bundle.clone(),
            format!("{}%", self.rollout_percent),
            self.state.to_string(),
            yes_no(self.required),
            table_time(self.created_at),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("id", self.id.to_string()),
            ("product", format!("{} ({})", self.product, self.product_id)),
            ("cohort", format!("{} ({})", self.cohort, self.cohort_id)),
            ("bundle", format!("{} ({})", self.bundle, self.bundle_id)),
            ("rollout", format!("{}%", self.rollout_percent)),
            ("state", self.state.to_string()),
            ("schedule", release_schedule(self)),
            ("next step", self.next_step_at.map_or("-".into(), show_time)),
            ("guard", release_guard(self)),
            (
                "finished",
                format!(
                    "{} devices, {} failed",
                    self.final_reports, self.failed_reports
                ),
            ),
            ("required", yes_no(self.required)),
            (
                "previous",
                self.previous_release_id
                    .as_ref()
                    .map_or("-".into(), ToString::to_string),
            ),
            ("created", show_time(self.created_at)),
            ("updated", show_time(self.updated_at)),
            ("revision", self.revision.to_string()),
        ]
    }
}

impl Resource for ProductFirmwarePolicy {
    fn id(&self) -> &str {
        self.product_id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &["PRODUCT", "REQUIRE SIGNED"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.product.clone(),
            self.require_signed_firmware.to_string(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("product", self.product.clone()),
            (
                "require signed firmware",
                yes_no(self.require_signed_firmware),
            ),
        ]
    }
}

/// What `fleet firmware push` prints: the binary, or with `--release-to` the binary, bundle and
/// release together (`{"binary": …, "bundle": …, "release": …}` in JSON).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum PushResult {
    Binary(Box<Binary>),
    Released(Box<Released>),
}

#[derive(Debug, Serialize)]
pub struct Released {
    pub binary: Binary,
    pub bundle: Bundle,
    pub release: Release,
}

impl Resource for PushResult {
    fn id(&self) -> &str {
        match self {
            PushResult::Binary(binary) => binary.id.as_str(),
            PushResult::Released(r) => r.binary.id.as_str(),
        }
    }

    fn headers() -> &'static [&'static str] {
        Binary::headers()
    }

    fn row(&self) -> Vec<String> {
        match self {
            PushResult::Binary(binary) => binary.row(),
            PushResult::Released(r) => r.binary.row(),
        }
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            PushResult::Binary(binary) => binary.fields(),
            PushResult::Released(r) => {
                let (binary, release) = (&r.binary, &r.release);
                let mut fields = binary.fields();
                fields.push(("release", release.id.to_string()));
                fields.push(("cohort", release.cohort.clone()));
                fields.push(("rollout", format!("{}%", release.rollout_percent)));
                fields
            }
        }
    }
}

/// The schedule and where the release is in it, e.g. `1%,10%@1h,100%@1day (step 2 of 3)`.
fn release_schedule(release: &Release) -> String {
    if release.schedule.is_empty() {
        return "-".into();
    }
    format!(
        "{} (step {} of {})",
        crate::api::format_schedule(&release.schedule),
        release.current_step.unwrap_or(0),
        release.schedule.len()
    )
}

/// The guard with what it counts now, e.g. `halt above 5% failed of at least 20 (3 of 25 failed)`.
fn release_guard(release: &Release) -> String {
    match &release.guard {
        None => "-".into(),
        Some(guard) => format!(
            "halt above {}% failed of at least {} ({} of {} failed)",
            guard.halt_on_failure_rate,
            guard.min_reports,
            guard.failed_reports,
            guard.final_reports
        ),
    }
}
