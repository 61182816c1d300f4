//! Strategic merge patch, as kustomize applies it to resources.
//!
//! Maps merge key by key (`null` deletes); lists of objects merge by their merge key, taken from
//! the embedded schema of the core kinds or, for other lists, from the first of kustomize's
//! well-known keys every element carries; other lists are replaced. Patch elements come first
//! in a merged list. `$patch: delete|replace|merge` directives are honoured. kustomize v5.5
//! (kyaml's merge) does not implement `$retainKeys`, `$setElementOrder/<list>` or
//! `$deleteFromPrimitiveList/<list>`: it copies them into the output as ordinary fields, and so
//! does this module, since the output must be byte-identical (verified with `kubectl kustomize`).

use serde_json::{Map, Value};

/// Keys that make a list of objects mergeable when the schema says nothing, in priority order.
const ASSOCIATIVE_KEYS: &[&str] = &[
    "mountPath",
    "devicePath",
    "ip",
    "type",
    "topologyKey",
    "name",
    "containerPort",
];

/// Kinds whose schema is embedded (their lists follow the Kubernetes merge keys).
const POD_TEMPLATE_KINDS: &[&str] = &[
    "Pod",
    "PodTemplate",
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

/// How a list field merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStrategy {
    /// Elements are objects matched by this key.
    Key(String),
    /// Primitive values united (`patchStrategy: merge` on a list of scalars).
    Union,
    /// The patch's list replaces the original.
    Replace,
}

/// The merge strategy of a list for the patch target `t`.
fn list_strategy_with(
    t: &Target<'_>,
    path: &[String],
    orig: &[Value],
    patch: &[Value],
) -> ListStrategy {
    if !t.infer_keys {
        let field = path.last().map(String::as_str).unwrap_or("");
        let parent = if path.len() >= 2 {
            path[path.len() - 2].as_str()
        } else {
            ""
        };
        return schema_strategy(t.kind, field, parent, path).unwrap_or(ListStrategy::Replace);
    }
    list_strategy(t.kind, path, orig, patch)
}

/// The merge strategy of the list at `path` (field names from the object root) in `kind`.
pub fn list_strategy(kind: &str, path: &[String], orig: &[Value], patch: &[Value]) -> ListStrategy {
    let field = path.last().map(String::as_str).unwrap_or("");
    let parent = if path.len() >= 2 {
        path[path.len() - 2].as_str()
    } else {
        ""
    };
    if let Some(s) = schema_strategy(kind, field, parent, path) {
        return s;
    }
    let all: Vec<&Value> = orig
        .iter()
        .chain(patch.iter())
        .filter(|v| !is_directive_elem(v))
        .collect();
    if all.is_empty() || !all.iter().all(|v| v.is_object()) {
        return ListStrategy::Replace;
    }
    for key in ASSOCIATIVE_KEYS {
        if all.iter().all(|v| v.get(*key).is_some()) {
            return ListStrategy::Key((*key).to_string());
        }
    }
    ListStrategy::Replace
}

fn schema_strategy(kind: &str, field: &str, parent: &str, path: &[String]) -> Option<ListStrategy> {
    let key = |k: &str| Some(ListStrategy::Key(k.to_string()));
    if path.len() == 2 && path[0] == "metadata" {
        return match field {
            "finalizers" => Some(ListStrategy::Union),
            "ownerReferences" => key("uid"),
            _ => None,
        };
    }
    if POD_TEMPLATE_KINDS.contains(&kind) {
        let in_container = path.iter().any(|p| {
            matches!(
                p.as_str(),
                "containers" | "initContainers" | "ephemeralContainers"
            )
        });
        return match field {
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "volumes"
            | "imagePullSecrets"
            | "resourceClaims"
            | "schedulingGates" => key("name"),
            "env" if in_container => key("name"),
            "volumeMounts" => key("mountPath"),
            "volumeDevices" => key("devicePath"),
            "ports" if in_container => key("containerPort"),
            "hostAliases" => key("ip"),
            "readinessGates" => key("conditionType"),
            "topologySpreadConstraints" => key("topologyKey"),
            "conditions" if parent == "status" => key("type"),
            "args"
            | "command"
            | "tolerations"
            | "envFrom"
            | "volumeClaimTemplates"
            | "nodeSelectorTerms" => Some(ListStrategy::Replace),
            _ => None,
        };
    }
    match (kind, field) {
        ("Service", "ports") if parent == "spec" => key("port"),
        ("ServiceAccount", "secrets") => key("name"),
        ("ServiceAccount", "imagePullSecrets") => key("name"),
        _ => None,
    }
}

fn is_directive_elem(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key("$patch"))
}

/// Applies `patch` to `orig` (both objects) for a resource of `kind`.
pub fn merge(kind: &str, orig: &mut Value, patch: &Value) {
    merge_with(kind, true, orig, patch);
}

/// The kind being patched and whether list merge keys may be inferred for kinds the schema
/// does not know.
struct Target<'a> {
    kind: &'a str,
    infer_keys: bool,
}

/// Like [`merge`]; without `infer_keys`, lists of kinds outside the embedded schema are
/// replaced instead of merged by a well-known key (kustomize does this when a kustomization
/// names a builtin OpenAPI version explicitly).
pub fn merge_with(kind: &str, infer_keys: bool, orig: &mut Value, patch: &Value) {
    let mut path = Vec::new();
    merge_value(&Target { kind, infer_keys }, &mut path, orig, patch);
}

fn merge_value(kind: &Target<'_>, path: &mut Vec<String>, orig: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if let Some(d) = p.get("$patch").and_then(Value::as_str)
                && d == "replace"
            {
                *orig = strip_directives(patch);
                return;
            }
            if !orig.is_object() {
                *orig = Value::Object(Map::new());
            }
            if let Value::Object(o) = orig {
                merge_map(kind, path, o, p);
            }
        }
        _ => *orig = patch.clone(),
    }
}

fn merge_map(
    kind: &Target<'_>,
    path: &mut Vec<String>,
    o: &mut Map<String, Value>,
    p: &Map<String, Value>,
) {
    for (k, pv) in p {
        if k == "$patch" {
            continue;
        }
        if pv.is_null() {
            o.shift_remove(k);
            continue;
        }
        path.push(k.clone());
        match pv {
            Value::Object(pm) if pm.get("$patch").and_then(Value::as_str) == Some("delete") => {
                o.shift_remove(k);
            }
            Value::Array(pa) => {
                let merged = {
                    let oa = match o.get(k) {
                        Some(Value::Array(a)) => a.clone(),
                        _ => Vec::new(),
                    };
                    merge_list(kind, path, oa, pa)
                };
                o.insert(k.clone(), Value::Array(merged));
            }
            _ => {
                let entry = o.entry(k.clone()).or_insert(Value::Null);
                if pv.is_object() && !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                merge_value(kind, path, entry, pv);
            }
        }
        path.pop();
    }
}

fn merge_list(
    kind: &Target<'_>,
    path: &mut Vec<String>,
    mut orig: Vec<Value>,
    patch: &[Value],
) -> Vec<Value> {
    if patch.iter().any(|v| {
        v.get("$patch").and_then(Value::as_str) == Some("replace")
            && v.as_object().is_some_and(|m| m.len() == 1)
    }) {
        return patch
            .iter()
            .filter(|v| !is_directive_elem(v))
            .map(strip_directives)
            .collect();
    }
    match list_strategy_with(kind, path, &orig, patch) {
        ListStrategy::Replace => patch
            .iter()
            .filter(|v| !is_directive_elem(v))
            .map(strip_directives)
            .collect(),
        ListStrategy::Union => {
            // The patch's values first, then the original values it does not repeat.
            let mut out: Vec<Value> = patch.to_vec();
            out.extend(orig.into_iter().filter(|v| !patch.contains(v)));
            out
        }
        ListStrategy::Key(key) => {
            // Patch elements come first, in patch order (merged into their originals), then
            // the original elements the patch does not mention, in their order.
            let mut out = Vec::new();
            for pv in patch {
                let Some(kv) = pv.get(&key) else {
                    if !is_directive_elem(pv) {
                        out.push(strip_directives(pv));
                    }
                    continue;
                };
                let pos = orig.iter().position(|o| o.get(&key) == Some(kv));
                let delete = pv.get("$patch").and_then(Value::as_str) == Some("delete");
                match (pos, delete) {
                    (Some(i), true) => {
                        orig.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => {
                        let mut slot = orig.remove(i);
                        merge_value(kind, path, &mut slot, pv);
                        out.push(slot);
                    }
                    (None, false) => out.push(strip_directives(pv)),
                }
            }
            out.extend(orig);
            out
        }
    }
}

/// Removes `$patch` directives from a value (for elements added from a patch).
pub fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "$patch")
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|v| !is_directive_elem(v))
                .map(strip_directives)
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_containers_by_name_and_deletes_with_null() {
        let mut o = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x", "args": ["1"]}]}}}, "x": 1});
        let p = json!({"x": null, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b", "image": "z"}]}}}});
        merge("Deployment", &mut o, &p);
        assert_eq!(
            o,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "y", "args": ["1"]}, {"name": "b", "image": "z"}]}}}})
        );
    }

    #[test]
    fn honours_delete_and_replace_directives() {
        let mut o = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}, "m": {"k": 1, "j": 2}});
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}, "m": {"$patch": "replace", "z": 3}});
        merge("Deployment", &mut o, &p);
        assert_eq!(
            o,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "b"}]}}}, "m": {"z": 3}})
        );
    }
}
