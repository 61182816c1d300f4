//! Normalization: what is removed or rewritten before two objects are compared.

use base64::Engine as _;
use serde_json::{Map, Value};

/// `metadata` fields the API server sets or that describe the object's storage, not its intent.
const SERVER_METADATA: [&str; 8] = [
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Client-side apply's copy of the last applied manifest: a duplicate of the object (Secret
/// values included) that must never be compared or shown.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Removes what never counts as a difference: `status`; `metadata.managedFields`,
/// `resourceVersion`, `uid`, `creationTimestamp`, `generation`, `selfLink`,
/// `deletionTimestamp`, `deletionGracePeriodSeconds`; the last-applied annotation. An
/// `annotations` map left empty by that is removed too.
pub fn normalize(obj: &mut Value) {
    let Value::Object(map) = obj else {
        return;
    };
    map.shift_remove("status");
    if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
        for field in SERVER_METADATA {
            metadata.shift_remove(field);
        }
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            annotations.shift_remove(LAST_APPLIED_ANNOTATION);
            if annotations.is_empty() {
                metadata.shift_remove("annotations");
            }
        }
    }
}

/// Whether `obj` is a core `v1` Secret.
pub fn is_secret(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// Folds a Secret's `stringData` into `data`, base64-encoded, as the API server does on every
/// write (a `stringData` key wins over the same `data` key; `stringData` is never stored). After
/// this a manifest written with `stringData` compares equal to the live Secret it produced.
/// Non-string `stringData` values are left in `stringData` (the server rejects them anyway).
pub fn fold_string_data(obj: &mut Value) {
    let Value::Object(map) = obj else {
        return;
    };
    let Some(Value::Object(string_data)) = map.shift_remove("stringData") else {
        return;
    };
    let mut leftover = Map::new();
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(data) = data else {
        map.insert("stringData".to_owned(), Value::Object(string_data));
        return;
    };
    for (key, value) in string_data {
        match value {
            Value::String(text) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                data.insert(key, Value::String(encoded));
            }
            other => {
                leftover.insert(key, other);
            }
        }
    }
    if !leftover.is_empty() {
        map.insert("stringData".to_owned(), Value::Object(leftover));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_server_fields_and_last_applied() {
        let mut obj = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "x", "namespace": "n", "uid": "u", "resourceVersion": "5",
                "generation": 1, "creationTimestamp": "t", "selfLink": "/x",
                "managedFields": [], "deletionTimestamp": "t", "deletionGracePeriodSeconds": 30,
                "annotations": {LAST_APPLIED_ANNOTATION: "{\"data\":{}}"},
                "labels": {"a": "b"},
            },
            "data": {"k": "v"},
            "status": {"x": 1},
        });
        normalize(&mut obj);
        assert_eq!(
            obj,
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "x", "namespace": "n", "labels": {"a": "b"}},
                "data": {"k": "v"},
            })
        );
    }

    #[test]
    fn string_data_becomes_base64_data_and_wins() {
        let mut obj = json!({
            "apiVersion": "v1", "kind": "Secret",
            "data": {"a": "b2xk", "keep": "eA=="},
            "stringData": {"a": "new", "b": "hello"},
        });
        fold_string_data(&mut obj);
        assert_eq!(
            obj,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "data": {"a": "bmV3", "keep": "eA==", "b": "aGVsbG8="},
            })
        );
        assert!(is_secret(&obj));
    }
}
