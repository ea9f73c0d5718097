//! Pure operations on configuration documents: JSON Merge Patch (RFC 7396), writing and
//! removing a value at a dotted key path, masking secret values, the differences between two
//! documents, and the fingerprint devices report.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::api::config::{ChangeKind, ConfigChange, SECRET_MASK};

/// RFC 7396: `patch` applied to `target`. An object patch merges key by key, `null` removes a
/// key, anything else replaces the value whole.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// The effective configuration: `{}` patched by each layer in order (product, cohort, device).
pub fn effective<'a>(
    layers: impl IntoIterator<Item = &'a Map<String, Value>>,
) -> Map<String, Value> {
    let mut merged = Value::Object(Map::new());
    for layer in layers {
        merge_patch(&mut merged, &Value::Object(layer.clone()));
    }
    match merged {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Writes `value` at `keys`, making (or replacing non-object values with) objects on the way.
pub fn set_path(document: &mut Map<String, Value>, keys: &[&str], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut node = document;
    for key in parents {
        let entry = node
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        node = next;
    }
    node.insert((*last).to_owned(), value);
}

/// Removes the value at `keys`; objects left empty on the way are removed too. `false` when
/// there was nothing there.
pub fn remove_path(document: &mut Map<String, Value>, keys: &[&str]) -> bool {
    match keys {
        [] => false,
        [last] => document.remove(*last).is_some(),
        [first, rest @ ..] => {
            let Some(Value::Object(child)) = document.get_mut(*first) else {
                return false;
            };
            let removed = remove_path(child, rest);
            if removed && child.is_empty() {
                document.remove(*first);
            }
            removed
        }
    }
}

/// The value at `keys`, if any.
pub fn get_path<'a>(document: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    let (first, rest) = keys.split_first()?;
    let value = document.get(*first)?;
    if rest.is_empty() {
        return Some(value);
    }
    match value {
        Value::Object(child) => get_path(child, rest),
        _ => None,
    }
}

/// Whether the dotted `path` is a secret path or lies inside one.
pub fn is_secret(secrets: &[String], path: &str) -> bool {
    secrets.iter().any(|secret| {
        path == secret
            || path
                .strip_prefix(secret.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// A copy of `document` with every secret value (but not a `null`, which hides nothing) shown
/// as `"***"`.
pub fn mask(document: &Map<String, Value>, secrets: &[String]) -> Map<String, Value> {
    let mut masked = document.clone();
    for secret in secrets {
        let keys: Vec<&str> = secret.split('.').collect();
        if get_path(&masked, &keys).is_some_and(|v| !v.is_null()) {
            set_path(&mut masked, &keys, Value::String(SECRET_MASK.to_owned()));
        }
    }
    masked
}

/// A document sent back by a person: where a secret's value is `"***"` (as they were shown
/// it), the stored value of `current` stays.
pub fn unmask(document: &mut Map<String, Value>, current: &Map<String, Value>, secrets: &[String]) {
    for secret in secrets {
        let keys: Vec<&str> = secret.split('.').collect();
        let shown_masked =
            get_path(document, &keys).is_some_and(|v| v.as_str() == Some(SECRET_MASK));
        if !shown_masked {
            continue;
        }
        match get_path(current, &keys) {
            Some(stored) => set_path(document, &keys, stored.clone()),
            None => {
                remove_path(document, &keys);
            }
        }
    }
}

/// The leaf-level differences from `old` to `new`, by dotted path in key order; secret values
/// are masked.
pub fn diff(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    secrets: &[String],
) -> Vec<ConfigChange> {
    let mut changes = Vec::new();
    diff_into("", old, new, &mut changes);
    for change in &mut changes {
        for value in [&mut change.old, &mut change.new].into_iter().flatten() {
            mask_value(&change.path, value, secrets);
        }
    }
    changes
}

/// Masks `value`, found at dotted `path`: whole when the path is secret, else the secret
/// paths inside it (a change can add a whole object holding a secret).
fn mask_value(path: &str, value: &mut Value, secrets: &[String]) {
    if value.is_null() {
        return;
    }
    if is_secret(secrets, path) {
        *value = Value::String(SECRET_MASK.to_owned());
        return;
    }
    let Value::Object(object) = value else {
        return;
    };
    let prefix = format!("{path}.");
    let inner: Vec<String> = secrets
        .iter()
        .filter_map(|s| s.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    if !inner.is_empty() {
        *object = mask(object, &inner);
    }
}

fn diff_into(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    changes: &mut Vec<ConfigChange>,
) {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let change = |change, old: Option<&Value>, new: Option<&Value>| ConfigChange {
            path: path.clone(),
            change,
            old: old.cloned(),
            new: new.cloned(),
        };
        match (old.get(key), new.get(key)) {
            (Some(Value::Object(a)), Some(Value::Object(b))) => diff_into(&path, a, b, changes),
            (Some(a), Some(b)) if a != b => {
                changes.push(change(ChangeKind::Changed, Some(a), Some(b)))
            }
            (Some(a), None) => changes.push(change(ChangeKind::Removed, Some(a), None)),
            (None, Some(b)) => changes.push(change(ChangeKind::Added, None, Some(b))),
            _ => {}
        }
    }
}

/// The revision devices report for an effective document: 53 bits of the SHA-256 of its
/// canonical JSON (keys sorted at every level), so it survives any JSON parser and equal
/// documents have the same revision on every replica.
pub fn fingerprint(document: &Map<String, Value>) -> i64 {
    let mut text = String::new();
    canonical(&Value::Object(document.clone()), &mut text);
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    // Never 0, so a device that reports 0 or nothing always differs.
    i64::try_from(u64::from_be_bytes(bytes) >> 11)
        .unwrap_or(1)
        .max(1)
}

/// Compact JSON with object keys sorted, whatever order the map keeps them in.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Compact JSON size of a document.
pub fn size(document: &Map<String, Value>) -> usize {
    Value::Object(document.clone()).to_string().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn merge_patch_follows_the_rfc_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            let mut merged = target.clone();
            merge_patch(&mut merged, &patch);
            assert_eq!(merged, expected, "{target} patched by {patch}");
        }
    }

    #[test]
    fn the_effective_document_layers_product_cohort_device() {
        let product = obj(json!({"log": "info", "rate": 10, "net": {"url": "a", "tls": true}}));
        let cohort = obj(json!({"log": "debug", "net": {"tls": null}}));
        let device = obj(json!({"rate": null, "extra": 1}));
        let merged = effective([&product, &cohort, &device]);
        assert_eq!(
            Value::Object(merged),
            json!({"log": "debug", "net": {"url": "a"}, "extra": 1})
        );
    }

    #[test]
    fn paths_are_set_and_removed_with_their_empty_parents() {
        let mut doc = obj(json!({"a": 1}));
        set_path(&mut doc, &["a", "b", "c"], json!(2));
        assert_eq!(Value::Object(doc.clone()), json!({"a": {"b": {"c": 2}}}));
        assert!(remove_path(&mut doc, &["a", "b", "c"]));
        assert_eq!(Value::Object(doc.clone()), json!({}));
        assert!(!remove_path(&mut doc, &["a"]));
    }

    #[test]
    fn secrets_are_masked_in_documents_and_diffs_and_kept_when_sent_back_masked() {
        let secrets = vec!["net.token".to_owned()];
        let stored = obj(json!({"net": {"token": "s3cr3t", "url": "a"}}));
        let masked = mask(&stored, &secrets);
        assert_eq!(
            Value::Object(masked.clone()),
            json!({"net": {"token": "***", "url": "a"}})
        );
        let mut sent = masked;
        set_path(&mut sent, &["net", "url"], json!("b"));
        unmask(&mut sent, &stored, &secrets);
        assert_eq!(
            Value::Object(sent.clone()),
            json!({"net": {"token": "s3cr3t", "url": "b"}})
        );
        let newer = obj(json!({"net": {"token": "other", "url": "b"}}));
        let changes = diff(&stored, &newer, &secrets);
        let shown = serde_json::to_string(&changes).unwrap_or_default();
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("other"),
            "{shown}"
        );
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].path, "net.token");
        assert_eq!(changes[0].new, Some(json!("***")));
        assert_eq!(changes[1].change, ChangeKind::Changed);
        // A whole object added or removed at once shows its secrets masked too.
        let added = diff(&Map::new(), &stored, &secrets);
        assert_eq!(added[0].new, Some(json!({"token": "***", "url": "a"})));
        let removed = diff(&stored, &Map::new(), &secrets);
        assert_eq!(removed[0].old, Some(json!({"token": "***", "url": "a"})));
    }

    #[test]
    fn fingerprints_follow_content_only() {
        let a = obj(json!({"a": 1, "b": [1, 2]}));
        let b = obj(json!({"b": [1, 2], "a": 1}));
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(
            fingerprint(&a),
            fingerprint(&obj(json!({"a": 2, "b": [1, 2]})))
        );
        assert!(fingerprint(&a) > 0 && fingerprint(&a) < (1 << 53));
    }
}
