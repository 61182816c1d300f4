//! Property tests for strategic merge patch: merge keys, directives and list ordering.

use driftless_kustomize::smp::merge;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Containers with distinct names (from a small alphabet, so patches overlap originals).
fn containers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-f]", "[a-z]{1,4}", 0..5)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
}

fn deployment(cs: &[(String, String)], args: &[String]) -> Value {
    let list: Vec<Value> = cs
        .iter()
        .map(|(n, i)| json!({"name": n, "image": i, "args": args}))
        .collect();
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"template": {"spec": {"containers": list}}}})
}

fn patch_of(cs: &[(String, String)]) -> Value {
    let list: Vec<Value> = cs
        .iter()
        .map(|(n, i)| json!({"name": n, "image": i}))
        .collect();
    json!({"spec": {"template": {"spec": {"containers": list}}}})
}

fn names(v: &Value) -> Vec<String> {
    v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

proptest! {
    /// Patch elements come first in patch order, then untouched originals in their order;
    /// merged elements take the patch's values and keep the original's other fields.
    #[test]
    fn keyed_lists_merge_by_name_in_patch_order(orig in containers(), patch in containers()) {
        let mut doc = deployment(&orig, &["x".to_string()]);
        merge("Deployment", &mut doc, &patch_of(&patch));
        let patched: Vec<String> = patch.iter().map(|(n, _)| n.clone()).collect();
        let mut want = patched.clone();
        want.extend(orig.iter().map(|(n, _)| n.clone()).filter(|n| !patched.contains(n)));
        prop_assert_eq!(names(&doc), want);
        for c in doc["spec"]["template"]["spec"]["containers"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or_default();
            if let Some((_, image)) = patch.iter().find(|(n, _)| n == name) {
                prop_assert_eq!(c["image"].as_str(), Some(image.as_str()));
            }
            if orig.iter().any(|(n, _)| n == name) {
                prop_assert_eq!(&c["args"], &json!(["x"]));
            }
        }
    }

    /// Merging an object into itself changes nothing.
    #[test]
    fn merge_is_idempotent(orig in containers()) {
        let doc = deployment(&orig, &[]);
        let mut merged = doc.clone();
        merge("Deployment", &mut merged, &doc);
        prop_assert_eq!(merged, doc);
    }

    /// `$patch: delete` removes exactly the named elements, keeping the others in order.
    #[test]
    fn delete_directive_removes_named_elements(orig in containers(), del in proptest::collection::btree_set("[a-f]", 0..4)) {
        let mut doc = deployment(&orig, &[]);
        let list: Vec<Value> = del.iter().map(|n| json!({"name": n, "$patch": "delete"})).collect();
        merge("Deployment", &mut doc, &json!({"spec": {"template": {"spec": {"containers": list}}}}));
        let want: Vec<String> = orig.iter().map(|(n, _)| n.clone()).filter(|n| !del.contains(n)).collect();
        prop_assert_eq!(names(&doc), want);
    }

    /// A list marked `$patch: replace` becomes exactly the patch's elements.
    #[test]
    fn replace_directive_replaces_the_list(orig in containers(), patch in containers()) {
        let mut doc = deployment(&orig, &[]);
        let mut list: Vec<Value> = patch.iter().map(|(n, i)| json!({"name": n, "image": i})).collect();
        list.push(json!({"$patch": "replace"}));
        merge("Deployment", &mut doc, &json!({"spec": {"template": {"spec": {"containers": list}}}}));
        let want: Vec<String> = patch.iter().map(|(n, _)| n.clone()).collect();
        prop_assert_eq!(names(&doc), want);
    }

    /// Lists without a merge key (`args`) are replaced, and `null` deletes a field.
    #[test]
    fn unkeyed_lists_are_replaced_and_null_deletes(a in proptest::collection::vec("[a-z]{1,3}", 0..4), b in proptest::collection::vec("[a-z]{1,3}", 0..4)) {
        let mut doc = json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "c", "args": a, "tty": true}]}}}});
        merge("Deployment", &mut doc, &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "args": b, "tty": null}]}}}}));
        let c = &doc["spec"]["template"]["spec"]["containers"][0];
        prop_assert_eq!(&c["args"], &json!(b));
        prop_assert!(c.get("tty").is_none());
    }

    /// Finalizers (a merged list of scalars) put the patch's values first, then the original
    /// values the patch does not repeat, each once (as `kubectl kustomize` v5.5 does).
    #[test]
    fn primitive_merge_lists_unite_patch_first(orig in proptest::collection::btree_set("[a-e]", 0..5), patch in proptest::collection::btree_set("[a-e]", 0..5)) {
        let orig: Vec<String> = orig.into_iter().collect();
        let patch: Vec<String> = patch.into_iter().rev().collect();
        let mut doc = json!({"kind": "Deployment", "metadata": {"finalizers": orig}});
        merge("Deployment", &mut doc, &json!({"metadata": {"finalizers": patch}}));
        let mut want = patch.clone();
        want.extend(orig.iter().filter(|v| !patch.contains(v)).cloned());
        prop_assert_eq!(&doc["metadata"]["finalizers"], &json!(want));
    }

    /// kustomize v5.5 does not implement `$retainKeys`, `$setElementOrder` or
    /// `$deleteFromPrimitiveList`: they are copied as ordinary fields and change nothing else.
    #[test]
    fn unsupported_directives_pass_through(orig in containers(), order in proptest::collection::vec("[a-f]", 0..4)) {
        let mut doc = deployment(&orig, &[]);
        let before = names(&doc);
        let directive: Vec<Value> = order.iter().map(|n| json!({"name": n})).collect();
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": directive,
            "$retainKeys": ["containers"],
        }}}, "metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}});
        merge("Deployment", &mut doc, &patch);
        prop_assert_eq!(names(&doc), before);
        prop_assert_eq!(&doc["spec"]["template"]["spec"]["$retainKeys"], &json!(["containers"]));
        prop_assert_eq!(&doc["metadata"]["$deleteFromPrimitiveList/finalizers"], &json!(["x"]));
        prop_assert!(doc["spec"]["template"]["spec"].get("$setElementOrder/containers").is_some());
    }
}
