//! Property tests: a Secret's values never appear in any output, and masks preserve exactly
//! the equality of values.

use std::collections::BTreeMap;

use driftless_diff::{Action, DiffOptions, IgnoreRule, diff_object, mask_secret_values};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Secret values: a marker no other part of the output contains, plus base64-ish text.
fn secret_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/]{4,20}={0,2}".prop_map(|s| format!("SeCrEt{s}"))
}

/// Key → value maps; few keys and few distinct values, so equal values across keys and sides
/// are common.
fn secret_data() -> impl Strategy<Value = BTreeMap<String, String>> {
    let values = prop::collection::vec(secret_value(), 1..4);
    values.prop_flat_map(|pool| {
        prop::collection::btree_map("[a-z]{1,3}", prop::sample::select(pool), 0..6)
    })
}

fn secret(data: &BTreeMap<String, String>, managed: bool) -> Value {
    let mut obj = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "shop"},
        "type": "Opaque",
        "data": data,
    });
    if managed {
        let fields: serde_json::Map<String, Value> =
            data.keys().map(|k| (format!("f:{k}"), json!({}))).collect();
        obj["metadata"]["managedFields"] = json!([{
            "manager": "driftless", "operation": "Apply", "apiVersion": "v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": fields, "f:type": {}},
        }]);
        obj["metadata"]["annotations"] = json!({
            "kubectl.kubernetes.io/last-applied-configuration":
                serde_json::to_string(&json!({"data": data})).unwrap_or_default(),
        });
    }
    obj
}

fn assert_no_value_leaks(values: &[&String], outputs: &[String]) -> Result<(), TestCaseError> {
    for value in values {
        for output in outputs {
            prop_assert!(
                !output.contains(value.as_str()),
                "{value} leaked into:\n{output}"
            );
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn secret_values_never_appear_in_a_diff(
        desired in secret_data(),
        live in secret_data(),
    ) {
        let d = secret(&desired, false);
        let l = secret(&live, true);
        let opts = DiffOptions::default();
        let values: Vec<&String> = desired.values().chain(live.values()).collect();
        for (d, l) in [(Some(&d), Some(&l)), (Some(&d), None), (None, Some(&l))] {
            let diff = diff_object(d, l, &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let debug = format!("{diff:?}");
            let json = serde_json::to_string(&diff).unwrap_or_default();
            assert_no_value_leaks(&values, &[diff.unified.clone(), debug, json])?;
        }
    }

    #[test]
    fn changed_paths_name_exactly_the_keys_whose_values_differ(
        desired in secret_data(),
        live in secret_data(),
    ) {
        let diff = diff_object(Some(&secret(&desired, false)), Some(&secret(&live, true)),
            &DiffOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut expected: Vec<String> = desired.keys().chain(live.keys())
            .filter(|k| desired.get(*k) != live.get(*k))
            .map(|k| format!("/data/{k}"))
            .collect();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(&diff.changed_paths, &expected);
        prop_assert_eq!(diff.action == Action::Unchanged, desired == live);
        prop_assert_eq!(diff.unified.is_empty(), desired == live);
    }

    #[test]
    fn masks_are_equal_exactly_when_values_are(
        desired in secret_data(),
        live in secret_data(),
    ) {
        let mut d = secret(&desired, false);
        let mut l = secret(&live, false);
        mask_secret_values(Some(&mut d), Some(&mut l));
        let originals: Vec<&String> = desired.values().chain(live.values()).collect();
        let masked: Vec<Value> = desired.keys().map(|k| d["data"][k].clone())
            .chain(live.keys().map(|k| l["data"][k].clone()))
            .collect();
        for (i, a) in originals.iter().enumerate() {
            for (j, b) in originals.iter().enumerate() {
                prop_assert_eq!(a == b, masked[i] == masked[j]);
            }
        }
        for mask in &masked {
            prop_assert!(mask.as_str().is_some_and(|m| m.len() >= 8 && m.chars().all(|c| c == '+')));
        }
    }

    #[test]
    fn failing_jq_rules_on_secrets_do_not_quote_values(live in secret_data()) {
        prop_assume!(!live.is_empty());
        let rule = IgnoreRule {
            kind: "Secret".into(),
            jq_path_expressions: vec![".data[] | .x".into()],
            ..IgnoreRule::default()
        };
        let opts = DiffOptions::new("driftless", vec![rule])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let err = diff_object(Some(&secret(&live, false)), Some(&secret(&live, true)), &opts).err();
        let message = err.map(|e| format!("{e} / {e:?}")).unwrap_or_default();
        prop_assert!(message.contains("creds"), "{}", message);
        let values: Vec<&String> = live.values().collect();
        assert_no_value_leaks(&values, &[message])?;
    }
}

#[test]
fn string_data_in_git_compares_equal_to_the_stored_data() -> Result<(), driftless_diff::Error> {
    let desired = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "shop"},
        "stringData": {"password": "hunter2"}});
    let live = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "shop", "managedFields": [{
            "manager": "driftless", "operation": "Apply",
            "fieldsV1": {"f:stringData": {"f:password": {}}}}]},
        "data": {"password": "aHVudGVyMg=="}});
    let same = diff_object(Some(&desired), Some(&live), &DiffOptions::default())?;
    assert_eq!(same.action, Action::Unchanged);
    let changed = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "shop"},
        "stringData": {"password": "hunter3"}});
    let diff = diff_object(Some(&changed), Some(&live), &DiffOptions::default())?;
    assert_eq!(diff.changed_paths, ["/data/password"]);
    for secret in ["hunter2", "hunter3", "aHVudGVyMg==", "aHVudGVyMw=="] {
        assert!(!diff.unified.contains(secret), "{}", diff.unified);
    }
    assert!(
        diff.unified.contains("-  password: ++++++++"),
        "{}",
        diff.unified
    );
    Ok(())
}
