//! How API keys, audit events and `whoami` look in tables and `show` views.

use serde::Serialize;

use super::Resource;
use super::resources::or_dash;
use super::table::{show_time, table_time};
use crate::api::{ApiKey, CreatedApiKey, Event, ScopedProduct};

/// `all` for an org-wide key, else the product names.
pub fn scope_text(products: Option<&[ScopedProduct]>) -> String {
    match products {
        None => "all products".to_owned(),
        Some([]) => "no products".to_owned(),
        Some(products) => products
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn state(key: &ApiKey) -> String {
    if key.revoked_at.is_some() {
        "revoked"
    } else if key.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
        "expired"
    } else {
        "active"
    }
    .to_owned()
}

fn key_fields(key: &ApiKey) -> Vec<(&'static str, String)> {
    vec![
        ("name", key.name.clone()),
        ("id", key.id.to_string()),
        ("prefix", or_dash(key.prefix.as_deref())),
        ("role", key.role.to_string()),
        ("products", scope_text(key.products.as_deref())),
        ("state", state(key)),
        ("created", show_time(key.created_at)),
        (
            "created by",
            or_dash(key.created_by.as_ref().map(ToString::to_string)),
        ),
        ("expires", or_dash(key.expires_at.map(show_time))),
        ("revoked", or_dash(key.revoked_at.map(show_time))),
        ("last used", or_dash(key.last_used_at.map(show_time))),
    ]
}

impl Resource for ApiKey {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &[
            "NAME", "ID", "PREFIX", "ROLE", "PRODUCTS", "STATE", "EXPIRES",
        ]
    }

    fn wide_only() -> &'static [&'static str] {
        &["ID"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id.to_string(),
            or_dash(self.prefix.as_deref()),
            self.role.to_string(),
            scope_text(self.products.as_deref()),
            state(self),
            or_dash(self.expires_at.map(table_time)),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        key_fields(self)
    }
}

impl Resource for CreatedApiKey {
    fn id(&self) -> &str {
        self.key.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        ApiKey::headers()
    }

    fn wide_only() -> &'static [&'static str] {
        ApiKey::wide_only()
    }

    fn row(&self) -> Vec<String> {
        self.key.row()
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = key_fields(&self.key);
        fields.push(("secret", self.secret.clone()));
        fields
    }
}

/// What an event was about, for people: for `auth.denied` the route and the reason
/// (`POST /v1/products (role)`); otherwise the name the event's details carry for its resource
/// (`name`, a device's `identifier`, …), falling back to the resource ID.
fn event_subject(event: &Event) -> String {
    let text = |key: &str| event.details.get(key).and_then(|v| v.as_str());
    if event.action == "auth.denied" {
        let route = match (text("method"), text("path")) {
            (Some(method), Some(path)) => Some(format!("{method} {path}")),
            _ => text("binary").map(|binary| format!("binary {binary}")),
        };
        return match (route, text("reason")) {
            (Some(route), Some(reason)) => format!("{route} ({reason})"),
            (Some(route), None) => route,
            (None, Some(reason)) => reason.to_owned(),
            (None, None) => or_dash(event.resource_id.as_deref()),
        };
    }
    ["name", "identifier", "artifact"]
        .into_iter()
        .find_map(text)
        .map_or_else(|| or_dash(event.resource_id.as_deref()), str::to_owned)
}

/// The product's name when the event carries it (events about a product), else its ID.
fn event_product(event: &Event) -> String {
    let about_product = event.action.starts_with("product.")
        && event.resource_id.is_some()
        && event.resource_id == event.product_id;
    match event.details.get("name").and_then(|v| v.as_str()) {
        Some(name) if about_product => name.to_owned(),
        _ => or_dash(event.product_id.as_deref()),
    }
}

impl Resource for Event {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &["TIME", "ACTION", "RESULT", "KEY", "RESOURCE", "PRODUCT"]
    }

    /// Most events carry only the product's ID, which crowds out the resource in a terminal.
    fn wide_only() -> &'static [&'static str] {
        &["PRODUCT"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            table_time(self.occurred_at),
            self.action.clone(),
            self.result.as_str().to_owned(),
            or_dash(self.key_name.as_deref()),
            event_subject(self),
            event_product(self),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("id", self.id.to_string()),
            ("time", show_time(self.occurred_at)),
            ("action", self.action.clone()),
            ("result", self.result.as_str().to_owned()),
            ("key", or_dash(self.key_name.as_deref())),
            ("key id", or_dash(self.key_id.as_deref())),
            ("resource", or_dash(self.resource_id.as_deref())),
            ("product", or_dash(self.product_id.as_deref())),
            ("details", self.details.to_string()),
        ]
    }
}

/// `fleet whoami`: the settings in effect, where each came from, and what the service says
/// about the key. Never holds the key itself.
#[derive(Debug, Clone, Serialize)]
pub struct WhoamiView {
    pub profile: Option<String>,
    pub profile_source: String,
    pub api_url: String,
    pub api_url_source: String,
    pub api_key_source: String,
    pub key_id: String,
    pub key_name: String,
    pub role: String,
    /// `null`: every product.
    pub products: Option<Vec<ScopedProduct>>,
    pub org: String,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Resource for WhoamiView {
    fn id(&self) -> &str {
        &self.key_id
    }

    fn headers() -> &'static [&'static str] {
        &["KEY", "ROLE", "PRODUCTS", "PROFILE", "API URL"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.key_name.clone(),
            self.role.clone(),
            scope_text(self.products.as_deref()),
            or_dash(self.profile.as_deref()),
            self.api_url.clone(),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "profile",
                format!(
                    "{} (from {})",
                    or_dash(self.profile.as_deref()),
                    self.profile_source
                ),
            ),
            (
                "api url",
                format!("{} (from {})", self.api_url, self.api_url_source),
            ),
            ("api key", format!("from {}", self.api_key_source)),
            ("key", format!("{} ({})", self.key_name, self.key_id)),
            ("role", self.role.clone()),
            ("products", scope_text(self.products.as_deref())),
            ("organization", self.org.clone()),
            ("expires", or_dash(self.expires_at.map(show_time))),
        ]
    }
}
