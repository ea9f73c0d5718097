//! Configurations: a product's JSON settings document, its cohorts' and devices' overrides
//! (JSON Merge Patch, RFC 7396), their revisions, and the product's optional JSON Schema.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::ProductId;

/// What people are shown in place of a secret value.
pub const SECRET_MASK: &str = "***";
/// Largest document (or schema) the service keeps, as compact JSON.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// Deepest a key path may go (`a.b.c` is 3).
pub const MAX_PATH_DEPTH: usize = 32;
/// Longest key in a path, in characters.
pub const MAX_KEY_CHARS: usize = 128;
/// Longest revision message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1024;
/// Most key paths one request may name in each of `secrets` and `unset` (the OpenAPI
/// `maxItems` of those fields repeats it: utoipa takes only a literal there).
pub const MAX_PATHS: usize = 256;

/// Which document of a product a configuration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConfigLevel {
    /// The product's own document, the base of every device's configuration.
    Product,
    /// A cohort's override, merged over the product's document.
    Cohort,
    /// A device's override, merged last.
    Device,
}

impl ConfigLevel {
    pub const fn as_str(self) -> &'static str {
        match self {
            ConfigLevel::Product => "product",
            ConfigLevel::Cohort => "cohort",
            ConfigLevel::Device => "device",
        }
    }

    pub fn parse(text: &str) -> Option<ConfigLevel> {
        [
            ConfigLevel::Product,
            ConfigLevel::Cohort,
            ConfigLevel::Device,
        ]
        .into_iter()
        .find(|level| level.as_str() == text)
    }
}

/// One configuration document as people see it: secret values read `"***"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Config {
    pub product_id: ProductId,
    pub product: String,
    pub level: ConfigLevel,
    /// The cohort's name, for a cohort's document (or a device's cohort in the effective view).
    pub cohort: Option<String>,
    /// The device's identifier, for a device's document.
    pub device: Option<String>,
    /// This level's revision (the `ETag`); 0 while it was never set.
    pub revision: i64,
    /// `true`: `document` is the merge of the product's document and the overrides down to
    /// this level, not this level's document alone.
    pub effective: bool,
    /// For the effective view: the revision devices report, a fingerprint of the merged
    /// document (equal documents have equal revisions); `null` when nothing is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_revision: Option<i64>,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub document: Map<String, Value>,
    /// The product's secret key paths (dotted): their values are shown as `"***"`.
    pub secrets: Vec<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The API key that made this revision, as the audit log names it.
    pub updated_by: Option<String>,
}

/// `PUT …/config`: the whole document of one level.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PutConfig {
    /// The new document, at most 65,536 bytes as compact JSON. A secret's value given as
    /// `"***"` keeps the stored value. In an override, `null` removes the key from the
    /// effective configuration.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub document: Map<String, Value>,
    /// Key paths (dotted) to mark secret, product-wide; a mark is never removed.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_items = 256, value_type = Vec<String>))]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub message: Option<String>,
}

/// `PATCH …/config`: keys to set and keys to remove, by dotted path.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatchConfig {
    /// `{"path.to.key": value}`: each value is written at its path (objects on the way are
    /// made). In an override, `null` removes the key from the effective configuration.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub set: Map<String, Value>,
    /// Paths removed from this level's document (an override then inherits them again).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_items = 256))]
    pub unset: Vec<String>,
    /// Key paths (dotted) to mark secret, product-wide; a mark is never removed.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_items = 256))]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub message: Option<String>,
}

/// `POST …/config/rollback`: a new revision with an earlier revision's document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollbackConfig {
    #[cfg_attr(feature = "server", schema(minimum = 1))]
    pub revision: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub message: Option<String>,
}

/// `GET …/config?effective=true`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ConfigQuery {
    /// The merge of the product's document and the overrides down to this level.
    pub effective: Option<bool>,
}

/// One kept revision of a level's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigRevision {
    pub revision: i64,
    pub level: ConfigLevel,
    /// The document at this revision; secret values read `"***"`.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub document: Map<String, Value>,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub key_id: Option<String>,
    pub key_name: Option<String>,
}

/// `GET …/config/revisions?limit=&before=`, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ConfigRevisionQuery {
    pub limit: Option<u32>,
    /// Only revisions older than this one: the `next_before` of the previous page.
    #[cfg_attr(feature = "server", param(minimum = 1))]
    pub before: Option<i64>,
}

/// One page of revisions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigRevisionPage {
    pub data: Vec<ConfigRevision>,
    /// Pass it as `before` for the next (older) page; `null` on the last page.
    pub next_before: Option<i64>,
}

/// `GET …/config/diff?from=&to=`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ConfigDiffQuery {
    /// The older side; 0 is the empty document before the first revision.
    #[cfg_attr(feature = "server", param(minimum = 0))]
    pub from: i64,
    /// The newer side; the current revision when absent.
    #[cfg_attr(feature = "server", param(minimum = 0))]
    pub to: Option<i64>,
}

/// How one key path differs between two revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One changed leaf (or a whole value whose type changed); secret values read `"***"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigChange {
    /// Dotted key path.
    pub path: String,
    pub change: ChangeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Value>))]
    pub old: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Value>))]
    pub new: Option<Value>,
}

/// The differences between two revisions of one level's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigDiff {
    pub from: i64,
    pub to: i64,
    pub changes: Vec<ConfigChange>,
}

/// A product's JSON Schema, which every effective configuration must satisfy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigSchema {
    pub product_id: ProductId,
    pub product: String,
    /// 0 while no schema was ever set (the `ETag`).
    pub revision: i64,
    /// `null`: any JSON object is accepted.
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub schema: Option<Value>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `PUT /v1/products/{product}/config/schema`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PutConfigSchema {
    /// A JSON Schema (draft 2020-12 unless `$schema` names another), at most 65,536 bytes as
    /// compact JSON; it may not refer to anything outside itself. Refused when a configuration
    /// of the product would not satisfy it.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub schema: Map<String, Value>,
}

/// How many devices run their latest effective configuration (in `GET …/stats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigStats {
    /// Devices whose last check-in reported their current effective configuration's revision.
    pub latest: u64,
    /// Devices that have not reported it yet (it changed since, or they never checked in).
    pub pending: u64,
    /// Devices that reported they could not apply their current configuration.
    pub failed: u64,
}

/// Splits a dotted key path into its keys; `Err` says what is wrong with it.
pub fn split_path(path: &str) -> Result<Vec<&str>, String> {
    if path.is_empty() {
        return Err("a key path must not be empty".into());
    }
    let keys: Vec<&str> = path.split('.').collect();
    if keys.len() > MAX_PATH_DEPTH {
        return Err(format!(
            "`{path}` is {} keys deep; at most {MAX_PATH_DEPTH}",
            keys.len()
        ));
    }
    for key in &keys {
        if key.is_empty() {
            return Err(format!(
                "`{path}` has an empty key (two dots, or a dot at an end)"
            ));
        }
        if key.chars().count() > MAX_KEY_CHARS {
            return Err(format!(
                "`{path}` has a key longer than {MAX_KEY_CHARS} characters"
            ));
        }
        if key.chars().any(char::is_control) {
            return Err(format!("`{path}` contains a control character"));
        }
    }
    Ok(keys)
}

/// `path=value` as the CLI takes it: the value as JSON when it parses, else the text itself.
pub fn parse_assignment(text: &str) -> Result<(String, Value), String> {
    let (path, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not `key.path=value`"))?;
    split_path(path)?;
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((path.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn assignments_read_json_else_text() {
        let cases = [
            ("a=1", json!(1)),
            ("a=true", json!(true)),
            ("a=null", json!(null)),
            ("a={\"b\":2}", json!({"b": 2})),
            ("a=info", json!("info")),
            ("a=\"1\"", json!("1")),
            ("a=x=y", json!("x=y")),
            ("a=", json!("")),
        ];
        for (text, value) in cases {
            assert_eq!(
                parse_assignment(text),
                Ok(("a".to_owned(), value)),
                "{text}"
            );
        }
        assert!(parse_assignment("novalue").is_err());
        assert!(parse_assignment("a..b=1").is_err());
        assert!(parse_assignment(".a=1").is_err());
    }
}
