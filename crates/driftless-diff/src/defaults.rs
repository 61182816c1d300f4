//! Server defaults inside atomic lists.
//!
//! An atomic list is owned whole, so everything the API server fills into its items is compared,
//! although applying the same manifest again fills it in again. Such defaults are listed here,
//! per kind, and removed from the live side where the desired side does not set the field. Only
//! values the server would produce from the manifest are removed, so a real change is never
//! hidden.

use serde_json::Value;

use crate::ObjectRef;

/// Removes the server's defaults from atomic lists of `live_view` where `desired` leaves them
/// unset. Items are paired by position, as atomic lists are compared.
///
/// StatefulSet `spec.volumeClaimTemplates[]`: `apiVersion: v1`, `kind: PersistentVolumeClaim`,
/// `spec.volumeMode: Filesystem`, and the `status` the server writes into each template.
pub fn drop_atomic_list_defaults(object: &ObjectRef, desired: &Value, live_view: &mut Value) {
    if object.group != "apps" || object.kind != "StatefulSet" {
        return;
    }
    let desired_items = desired
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array);
    let Some(live_items) = live_view
        .pointer_mut("/spec/volumeClaimTemplates")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for (index, live_item) in live_items.iter_mut().enumerate() {
        let desired_item = desired_items.and_then(|items| items.get(index));
        let Value::Object(item) = live_item else {
            continue;
        };
        let unset = |path: &str| desired_item.and_then(|d| d.pointer(path)).is_none();
        if unset("/status") {
            item.shift_remove("status");
        }
        for (field, default) in [("apiVersion", "v1"), ("kind", "PersistentVolumeClaim")] {
            if unset(&format!("/{field}"))
                && item.get(field).and_then(Value::as_str) == Some(default)
            {
                item.shift_remove(field);
            }
        }
        if unset("/spec/volumeMode")
            && let Some(Value::Object(spec)) = item.get_mut("spec")
            && spec.get("volumeMode").and_then(Value::as_str) == Some("Filesystem")
        {
            spec.shift_remove("volumeMode");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statefulset() -> ObjectRef {
        ObjectRef {
            group: "apps".into(),
            kind: "StatefulSet".into(),
            namespace: "fx".into(),
            name: "db".into(),
        }
    }

    #[test]
    fn drops_template_defaults_the_manifest_leaves_unset() {
        let desired = json!({"spec": {"volumeClaimTemplates": [
            {"metadata": {"name": "a"}, "spec": {"accessModes": ["ReadWriteOnce"]}},
            {"metadata": {"name": "b"}, "spec": {"volumeMode": "Block"}}]}});
        let mut live = json!({"spec": {"volumeClaimTemplates": [
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "a"},
             "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
             "status": {"phase": "Pending"}},
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "b"},
             "spec": {"volumeMode": "Filesystem"}}]}});
        drop_atomic_list_defaults(&statefulset(), &desired, &mut live);
        assert_eq!(
            live,
            json!({"spec": {"volumeClaimTemplates": [
            {"metadata": {"name": "a"}, "spec": {"accessModes": ["ReadWriteOnce"]}},
            // The manifest asks for Block: the live Filesystem is a real difference.
            {"metadata": {"name": "b"}, "spec": {"volumeMode": "Filesystem"}}]}})
        );
    }

    #[test]
    fn other_kinds_are_untouched() {
        let mut live = json!({"spec": {"volumeClaimTemplates": [{"status": {}}]}});
        let before = live.clone();
        let mut other = statefulset();
        other.kind = "Widget".into();
        drop_atomic_list_defaults(&other, &json!({}), &mut live);
        assert_eq!(live, before);
    }
}
