//! How each resource looks: its table columns, its key/value view for `show`, and its ID.
//! JSON output is the API object itself, so only the human views are defined here.

use serde::Serialize;

use super::escape::visible;
use super::table::show_time;
use crate::api::{Cohort, Device, Product};

/// A thing the CLI can print in every `-o` format.
pub trait Resource: Serialize {
    /// What `-o id` prints.
    fn id(&self) -> &str;
    /// Column titles of the list table.
    fn headers() -> &'static [&'static str];
    /// Titles among [`Resource::headers`] shown only with `-o wide` (IDs, mostly): columns a
    /// person rarely needs in an 80-column terminal.
    fn wide_only() -> &'static [&'static str] {
        &[]
    }
    /// One list-table row, matching [`Resource::headers`].
    fn row(&self) -> Vec<String>;
    /// The `show` view: label and value, in reading order.
    fn fields(&self) -> Vec<(&'static str, String)>;
}

/// The value, or `-` when it is missing or empty.
pub(super) fn or_dash(value: Option<impl AsRef<str>>) -> String {
    match value {
        Some(v) if !v.as_ref().is_empty() => v.as_ref().to_owned(),
        _ => "-".to_owned(),
    }
}

pub(super) fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

fn tags(tags: &[String]) -> String {
    if tags.is_empty() {
        "-".to_owned()
    } else {
        tags.join(",")
    }
}

impl Resource for Product {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &["NAME", "ID", "DEVICES", "ARCHIVED", "TAGS"]
    }

    fn wide_only() -> &'static [&'static str] {
        &["ID"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id.to_string(),
            self.device_count.to_string(),
            yes_no(self.archived),
            tags(&self.tags),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("id", self.id.to_string()),
            ("description", or_dash(Some(&self.description))),
            ("tags", tags(&self.tags)),
            ("archived", yes_no(self.archived)),
            ("devices", self.device_count.to_string()),
            ("created", show_time(self.created_at)),
            ("updated", show_time(self.updated_at)),
            ("revision", self.revision.to_string()),
        ]
    }
}

impl Resource for Cohort {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &["NAME", "ID", "PRODUCT", "DEVICES"]
    }

    fn wide_only() -> &'static [&'static str] {
        &["ID"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id.to_string(),
            self.product.clone(),
            self.device_count.to_string(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("id", self.id.to_string()),
            ("product", format!("{} ({})", self.product, self.product_id)),
            ("description", or_dash(Some(&self.description))),
            ("devices", self.device_count.to_string()),
            ("created", show_time(self.created_at)),
            ("updated", show_time(self.updated_at)),
            ("revision", self.revision.to_string()),
        ]
    }
}

impl Resource for Device {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &[
            "IDENTIFIER",
            "PRODUCT",
            "COHORT",
            "TARGET",
            "TAGS",
            "QUARANTINED",
            "ID",
        ]
    }

    fn wide_only() -> &'static [&'static str] {
        &["ID"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.identifier.clone(),
            self.product.clone(),
            or_dash(self.cohort.as_deref()),
            or_dash(self.target.as_deref()),
            tags(&self.tags),
            yes_no(self.quarantined),
            self.id.to_string(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let cohort = match (&self.cohort, &self.cohort_id) {
            (Some(name), Some(id)) => format!("{name} ({id})"),
            _ => "-".to_owned(),
        };
        vec![
            ("identifier", self.identifier.clone()),
            ("id", self.id.to_string()),
            ("product", format!("{} ({})", self.product, self.product_id)),
            ("cohort", cohort),
            ("description", or_dash(Some(&self.description))),
            ("tags", tags(&self.tags)),
            ("target", or_dash(self.target.as_deref())),
            ("quarantined", yes_no(self.quarantined)),
            ("needs provisioning", yes_no(self.needs_provisioning)),
            ("created", show_time(self.created_at)),
            ("updated", show_time(self.updated_at)),
            ("revision", self.revision.to_string()),
        ]
    }
}

/// A connection profile as `fleet profile list/show` prints it. Never holds the key itself.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    pub name: String,
    pub api_url: Option<String>,
    pub has_api_key: bool,
    pub default: bool,
}

impl Resource for ProfileView {
    fn id(&self) -> &str {
        &self.name
    }

    fn headers() -> &'static [&'static str] {
        &["NAME", "API URL", "API KEY", "DEFAULT"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            or_dash(self.api_url.as_deref()),
            if self.has_api_key { "stored" } else { "-" }.to_owned(),
            if self.default { "*" } else { "" }.to_owned(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("api url", or_dash(self.api_url.as_deref())),
            (
                "api key",
                if self.has_api_key {
                    "stored"
                } else {
                    "not stored"
                }
                .to_owned(),
            ),
            ("default", yes_no(self.default)),
        ]
    }
}

/// Aligned `label  value` lines; values escaped (see [`visible`]).
pub(super) fn write_fields(out: &mut Vec<u8>, fields: &[(&'static str, String)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (label, value) in fields {
        let value = visible(value);
        out.extend_from_slice(format!("{label:<width$}  {value}\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_align_values() {
        let mut out = Vec::new();
        write_fields(&mut out, &[("id", "x".into()), ("name", "y".into())]);
        assert_eq!(String::from_utf8(out).expect("utf-8"), "id    x\nname  y\n");
    }
}
