//! How certificate authorities and device certificates look in tables and `show` views.

use chrono::{DateTime, Utc};

use super::resources::{Resource, or_dash, yes_no};
use super::table::show_time;
use crate::api::{CertificateAuthority, DeviceCertificate};

/// A validity bound in a table: the day is enough to see what expires when.
fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

impl Resource for CertificateAuthority {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &[
            "NAME",
            "PRODUCT",
            "ENABLED",
            "JITP",
            "EXPIRES",
            "SUBJECT",
            "ID",
            "FINGERPRINT",
        ]
    }

    fn wide_only() -> &'static [&'static str] {
        &["ID", "FINGERPRINT"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.product.clone(),
            yes_no(self.enabled),
            if self.jitp.enabled { "on" } else { "off" }.to_owned(),
            day(self.not_after),
            self.subject.clone(),
            self.id.to_string(),
            self.fingerprint.clone(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let jitp = &self.jitp;
        let cohort = match (&jitp.cohort, &jitp.cohort_id) {
            (Some(name), Some(id)) => format!("{name} ({id})"),
            _ => "-".to_owned(),
        };
        let tags = if jitp.tags.is_empty() {
            "-".to_owned()
        } else {
            jitp.tags.join(",")
        };
        vec![
            ("name", self.name.clone()),
            ("id", self.id.to_string()),
            ("product", format!("{} ({})", self.product, self.product_id)),
            ("subject", self.subject.clone()),
            ("fingerprint", self.fingerprint.clone()),
            ("not before", show_time(self.not_before)),
            ("not after", show_time(self.not_after)),
            ("enabled", yes_no(self.enabled)),
            ("jitp", if jitp.enabled { "on" } else { "off" }.to_owned()),
            ("jitp cohort", cohort),
            ("jitp tags", tags),
            ("jitp target", or_dash(jitp.target.as_deref())),
            ("jitp description", or_dash(Some(&jitp.description))),
            ("created", show_time(self.created_at)),
            ("updated", show_time(self.updated_at)),
            ("revision", self.revision.to_string()),
        ]
    }
}

fn state(cert: &DeviceCertificate) -> String {
    if cert.revoked_at.is_some() {
        "revoked"
    } else {
        "active"
    }
    .to_owned()
}

impl Resource for DeviceCertificate {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &[
            "ID",
            "STATE",
            "SOURCE",
            "EXPIRES",
            "DEVICE",
            "SUBJECT",
            "CA",
            "FINGERPRINT",
        ]
    }

    fn wide_only() -> &'static [&'static str] {
        &["SUBJECT", "CA", "FINGERPRINT"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            state(self),
            self.source.as_str().to_owned(),
            day(self.not_after),
            self.device.clone(),
            self.subject.clone(),
            or_dash(self.ca_id.as_ref().map(|id| id.as_str())),
            self.fingerprint.clone(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("id", self.id.to_string()),
            ("device", format!("{} ({})", self.device, self.device_id)),
            ("state", state(self)),
            ("subject", self.subject.clone()),
            ("serial", self.serial.clone()),
            ("fingerprint", self.fingerprint.clone()),
            ("ca", or_dash(self.ca_id.as_ref().map(|id| id.as_str()))),
            ("not before", show_time(self.not_before)),
            ("not after", show_time(self.not_after)),
            ("source", self.source.as_str().to_owned()),
            ("created", show_time(self.created_at)),
            ("revoked", or_dash(self.revoked_at.map(show_time))),
            ("revoked reason", or_dash(self.revoked_reason.as_deref())),
        ]
    }
}
