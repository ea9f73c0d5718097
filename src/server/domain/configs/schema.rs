//! A product's JSON Schema: compiled once per (product, schema revision) and kept, and the
//! failing paths of a document that does not satisfy it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::document::is_secret;
use crate::api::FieldError;

/// Most compiled schemas kept; past it the cache starts again (schemas change rarely).
const MAX_CACHED: usize = 1024;

/// Compiled schemas by the SHA-256 of their JSON text: an entry can never be another
/// schema's, whichever replica or rolled-back transaction compiled it.
#[derive(Debug, Default)]
pub struct SchemaCache(Mutex<HashMap<[u8; 32], Arc<jsonschema::Validator>>>);

impl SchemaCache {
    /// `schema`, compiled.
    pub fn get(&self, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let key: [u8; 32] = Sha256::digest(schema.to_string().as_bytes()).into();
        if let Some(found) = self.lock().get(&key) {
            return Ok(found.clone());
        }
        let compiled = Arc::new(compile(schema)?);
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, compiled.clone());
        Ok(compiled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<jsonschema::Validator>>> {
        // A panic while holding the lock leaves a map of complete entries: still usable.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Compiles a schema; `Err` says why it is not a usable JSON Schema. References outside the
/// document cannot be resolved (the crate is built without fetching), so they are refused.
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    if let Err(err) = jsonschema::meta::validate(schema) {
        return Err(format!(
            "is not a valid JSON Schema: {err} (at `{}`)",
            err.instance_path()
        ));
    }
    jsonschema::validator_for(schema).map_err(|err| format!("cannot be used: {err}"))
}

/// Every way `document` fails `validator`, as fields `config.<dotted path>` (`config` for
/// the document itself); `context` says which configuration it was (e.g. "the effective
/// configuration of cohort `beta`"). Messages about secret values do not show the value.
pub fn failures(
    validator: &jsonschema::Validator,
    document: &Map<String, Value>,
    secrets: &[String],
    context: &str,
) -> Vec<FieldError> {
    let instance = Value::Object(document.clone());
    let mut failures: Vec<FieldError> = validator
        .iter_errors(&instance)
        .map(|err| {
            let path = dotted(&err.instance_path().to_string());
            let message = if is_secret(secrets, &path) {
                err.masked_with(crate::api::config::SECRET_MASK).to_string()
            } else {
                err.to_string()
            };
            let field = if path.is_empty() {
                "config".to_owned()
            } else {
                format!("config.{path}")
            };
            FieldError {
                field,
                message: format!("{message} (in {context})"),
            }
        })
        .collect();
    failures.dedup_by(|a, b| a.field == b.field && a.message == b.message);
    failures
}

/// A JSON Pointer (`/a/b~1c`) as a dotted path (`a.b/c`).
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_failing_path_is_listed_and_secret_values_are_not_shown() {
        let schema = json!({
            "type": "object",
            "properties": {
                "rate": {"type": "integer", "maximum": 100},
                "net": {"type": "object", "properties": {"token": {"type": "string", "minLength": 10}}},
                "log": {"enum": ["info", "debug"]}
            },
            "required": ["log"]
        });
        let validator = compile(&schema).expect("a valid schema");
        let document = match json!({"rate": 500, "net": {"token": "short"}}) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let secrets = vec!["net.token".to_owned()];
        let failures = failures(
            &validator,
            &document,
            &secrets,
            "the product's configuration",
        );
        let mut fields: Vec<&str> = failures.iter().map(|f| f.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["config", "config.net.token", "config.rate"]);
        let shown = format!("{failures:?}");
        assert!(!shown.contains("\\\"short\\\""), "{shown}");
        assert!(shown.contains("500"), "{shown}");
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused() {
        assert!(compile(&json!({"type": "no-such-type"})).is_err());
        assert!(compile(&json!({"$ref": "https://example.com/schema.json"})).is_err());
        assert!(compile(&json!({"type": "object"})).is_ok());
    }
}
