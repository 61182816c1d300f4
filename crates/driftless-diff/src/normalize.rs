//! Normalization: what is removed or rewritten before two objects are compared.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::fieldset::{FieldSet, PathElement};

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

/// Prepares a manifest (not a server object) for comparison with the live object's view, the way
/// an apply of it would act:
///
/// - a field set to `null` in the manifest is absent (the server never stores a null field;
///   `kubectl create --dry-run -o yaml` writes `creationTimestamp: null`);
/// - a field set to `{}` claims the field, not its contents: server-side apply records it as
///   one owned field (a leaf of `compared`) and leaves the defaults the server fills in
///   (`strategy: {}` becomes a `RollingUpdate` with `25%` surge) to nobody, and re-applying
///   `{}` changes none of them, so the live side's contents there are not compared. Where the
///   manager owns fields inside (`compared` has children there), they are compared as usual:
///   applying `{}` would remove them.
pub fn align_manifest(manifest: &mut Value, live_view: Option<&mut Value>, compared: &FieldSet) {
    drop_nulls(manifest);
    if let Some(live_view) = live_view {
        empty_maps_claim_nothing(manifest, live_view, compared);
    }
}

fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn empty_maps_claim_nothing(manifest: &Value, live: &mut Value, compared: &FieldSet) {
    match (manifest, live) {
        (Value::Object(m), Value::Object(l)) => {
            for (key, mv) in m {
                let Some(lv) = l.get_mut(key) else { continue };
                let Some(set) = compared.child(&PathElement::Field(key.clone())) else {
                    continue;
                };
                if set.is_leaf() && mv.as_object().is_some_and(Map::is_empty) && lv.is_object() {
                    *lv = Value::Object(Map::new());
                } else {
                    empty_maps_claim_nothing(mv, lv, set);
                }
            }
        }
        (Value::Array(m), Value::Array(l)) => {
            for (index, (mv, lv)) in m.iter().zip(l.iter_mut()).enumerate() {
                if let Some(set) = compared.item_set(index, lv) {
                    let set = set.clone();
                    empty_maps_claim_nothing(mv, lv, &set);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldset::FieldSetError;
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
    fn manifests_nulls_vanish_and_empty_maps_claim_only_the_field() -> Result<(), FieldSetError> {
        let mut manifest = json!({"metadata": {"creationTimestamp": null, "name": "x"},
            "spec": {"strategy": {}, "data": {}, "list": [{"a": null, "b": {}}]}});
        let mut live = json!({"metadata": {"name": "x"}, "spec": {
            "strategy": {"type": "RollingUpdate"}, "data": {"k": "owned"},
            "list": [{"b": {"c": 1}}]}});
        // strategy and list[0].b are owned as leaves; data's key k is owned by the manager.
        let compared = FieldSet::from_fields_v1(&json!({"f:metadata": {"f:name": {}},
            "f:spec": {"f:strategy": {}, "f:data": {"f:k": {}}, "f:list": {"i:0": {"f:b": {}}}}}))?;
        align_manifest(&mut manifest, Some(&mut live), &compared);
        assert_eq!(
            manifest,
            json!({"metadata": {"name": "x"},
            "spec": {"strategy": {}, "data": {}, "list": [{"b": {}}]}})
        );
        assert_eq!(
            live,
            json!({"metadata": {"name": "x"}, "spec": {
            "strategy": {}, "data": {"k": "owned"}, "list": [{"b": {}}]}})
        );
        Ok(())
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
