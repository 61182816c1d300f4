//! Secret masking: a diff shows that a Secret key changed, never its value.

use serde_json::Value;

use crate::normalize::is_secret;

/// The fields of a Secret that hold values.
const VALUE_FIELDS: [&str; 2] = ["data", "stringData"];

/// The shortest mask. Masks are runs of `+` (as Argo CD shows them) of length
/// `MASK_BASE_LEN + n`, where `n` numbers the distinct values in order of first appearance, so
/// that a mask says nothing about the value's length or content.
pub const MASK_BASE_LEN: usize = 8;

/// Replaces the values of `data` and `stringData` in one or two versions of a Secret by masks.
///
/// Nothing happens unless one of the objects is a core `v1` Secret. Both sides are masked
/// together, values numbered across both (desired first):
///
/// # Guarantees
///
/// - No value of `data` or `stringData` survives, on either side (a non-map `data` is replaced
///   by a mask as a whole).
/// - Two values get the same mask exactly when they are equal, whichever side and key they are
///   at; so a key whose value changed shows a different mask on each side, and one that did not
///   shows the same mask.
/// - Keys are kept: a diff shows which keys were added, removed or changed.
pub fn mask_secret_values(desired: Option<&mut Value>, live: Option<&mut Value>) {
    let secret =
        desired.as_deref().is_some_and(is_secret) || live.as_deref().is_some_and(is_secret);
    if !secret {
        return;
    }
    let mut seen: Vec<Value> = Vec::new();
    for obj in [desired, live].into_iter().flatten() {
        let Value::Object(map) = obj else {
            continue;
        };
        for field in VALUE_FIELDS {
            match map.get_mut(field) {
                Some(Value::Object(values)) => {
                    for value in values.values_mut() {
                        *value = mask_for(&mut seen, value);
                    }
                }
                Some(Value::Null) | None => {}
                Some(other) => *other = mask_for(&mut seen, other),
            }
        }
    }
}

/// The mask of `value`, numbering it if it is new.
fn mask_for(seen: &mut Vec<Value>, value: &Value) -> Value {
    let n = match seen.iter().position(|v| v == value) {
        Some(n) => n,
        None => {
            seen.push(value.clone());
            seen.len() - 1
        }
    };
    Value::String("+".repeat(MASK_BASE_LEN + n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_share_a_mask_and_different_ones_do_not() {
        let mut desired = json!({"apiVersion": "v1", "kind": "Secret",
            "data": {"same": "c2FtZQ==", "changed": "bmV3", "dup": "c2FtZQ=="}});
        let mut live = json!({"apiVersion": "v1", "kind": "Secret",
            "data": {"same": "c2FtZQ==", "changed": "b2xk", "gone": "eA=="}});
        mask_secret_values(Some(&mut desired), Some(&mut live));
        assert_eq!(
            desired["data"],
            json!({"same": "++++++++", "changed": "+++++++++",
            "dup": "++++++++"})
        );
        assert_eq!(
            live["data"],
            json!({"same": "++++++++", "changed": "++++++++++",
            "gone": "+++++++++++"})
        );
    }

    #[test]
    fn other_kinds_are_untouched_and_odd_shapes_are_masked_whole() {
        let mut config = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}});
        mask_secret_values(Some(&mut config), None);
        assert_eq!(config["data"]["a"], "b");
        let mut odd = json!({"apiVersion": "v1", "kind": "Secret", "data": "c2VjcmV0",
            "stringData": {"n": 5}});
        mask_secret_values(None, Some(&mut odd));
        assert_eq!(odd["data"], "++++++++");
        assert_eq!(odd["stringData"]["n"], "+++++++++");
    }
}
