//! Strategic merge patch, as kustomize applies it to resources.
//!
//! Maps merge key by key (`null` deletes); lists of objects merge by their merge key or list map
//! keys, taken from a custom OpenAPI document (`openapi.path`) or the embedded schema of the
//! core kinds; other lists are replaced. `$patch: delete|replace|merge` directives are honoured. kustomize v5.5
//! (kyaml's merge) does not implement `$retainKeys`, `$setElementOrder/<list>` or
//! `$deleteFromPrimitiveList/<list>`: it copies them into the output as ordinary fields, and so
//! does this module, since the output must be byte-identical (verified with `kubectl kustomize`).

use serde_json::{Map, Value};

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
    /// Elements are objects matched by this key (`x-kubernetes-patch-merge-key`): the merged
    /// list follows the patch's order, then the original elements it does not mention.
    Key(String),
    /// Elements are objects identified by these keys together (`x-kubernetes-list-map-keys`):
    /// new elements first, then the original elements (merged) in their order.
    MapKeys(Vec<String>),
    /// Primitive values united (`patchStrategy: merge` on a list of scalars).
    Union,
    /// The patch's list replaces the original.
    Replace,
}

/// The merge strategy of a list for the patch target `t`: the custom schema first (when the
/// kustomization gives one and it knows the kind), then the embedded one; lists the schema
/// says nothing about are replaced.
fn list_strategy_with(t: &Target<'_>, path: &[String]) -> ListStrategy {
    if let Some(s) = t.schema.and_then(|defs| custom_strategy(defs, t, path)) {
        return s;
    }
    list_strategy(t.kind, path)
}

/// The merge strategy of the list at `path` (field names from the object root) in `kind`,
/// from the embedded schema of the core kinds.
pub fn list_strategy(kind: &str, path: &[String]) -> ListStrategy {
    let field = path.last().map(String::as_str).unwrap_or("");
    let parent = if path.len() >= 2 {
        path[path.len() - 2].as_str()
    } else {
        ""
    };
    schema_strategy(kind, field, parent, path).unwrap_or(ListStrategy::Replace)
}

fn schema_strategy(kind: &str, field: &str, parent: &str, path: &[String]) -> Option<ListStrategy> {
    let key = |k: &str| Some(ListStrategy::Key(k.to_string()));
    let map_keys = |ks: &[&str]| {
        Some(ListStrategy::MapKeys(
            ks.iter().map(|k| (*k).to_string()).collect(),
        ))
    };
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
            | "imagePullSecrets" => key("name"),
            "env" if in_container => key("name"),
            "volumeMounts" => key("mountPath"),
            "volumeDevices" => key("devicePath"),
            "ports" if in_container => map_keys(&["containerPort", "protocol"]),
            "hostAliases" => key("ip"),
            "readinessGates" => key("conditionType"),
            "topologySpreadConstraints" => map_keys(&["topologyKey", "whenUnsatisfiable"]),
            "conditions" if parent == "status" => key("type"),
            _ => None,
        };
    }
    match (kind, field) {
        ("Service", "ports") if parent == "spec" => map_keys(&["port", "protocol"]),
        ("ServiceAccount", "secrets") => key("name"),
        ("MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration", "webhooks") => {
            key("name")
        }
        (_, "conditions") if parent == "status" => key("type"),
        _ => None,
    }
}

/// Follows `$ref`s (at most 32, against cycles) to the definition they name.
fn resolve_ref(defs: &Map<String, Value>, v: &Value) -> Option<Value> {
    let mut cur = v;
    for _ in 0..32 {
        match cur.get("$ref").and_then(Value::as_str) {
            Some(r) => cur = defs.get(r.trim_start_matches("#/definitions/"))?,
            None => return Some(cur.clone()),
        }
    }
    None
}

/// Reads the merge strategy of the list at `path` from a custom OpenAPI document (the
/// kustomization's `openapi.path`): the definition whose `x-kubernetes-group-version-kind`
/// names the resource, followed property by property through `$ref`s.
fn custom_strategy(doc: &Value, t: &Target<'_>, path: &[String]) -> Option<ListStrategy> {
    let defs = doc.get("definitions")?.as_object()?;
    let root = defs.values().find(|d| {
        d.get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .is_some_and(|gvks| {
                gvks.iter().any(|g| {
                    g.get("kind").and_then(Value::as_str) == Some(t.kind)
                        && g.get("group").and_then(Value::as_str).unwrap_or("") == t.group
                        && g.get("version").and_then(Value::as_str).unwrap_or("") == t.version
                })
            })
    })?;
    let resolve = |v: &Value| -> Option<Value> { resolve_ref(defs, v) };
    // A `$ref` to a Kubernetes type the document does not define leads into the builtin schema
    // (kustomize adds the custom document to it), which the embedded tables stand for.
    let builtin = |v: &Value| {
        v.get("$ref").and_then(Value::as_str).is_some_and(|r| {
            r.trim_start_matches("#/definitions/")
                .starts_with("io.k8s.api.")
        })
    };
    let mut cur = resolve(root)?;
    let mut field = Value::Null;
    for (i, name) in path.iter().enumerate() {
        field = cur.get("properties")?.get(name)?.clone();
        if i + 1 < path.len() {
            let items = if field.get("type").and_then(Value::as_str) == Some("array") {
                field.get("items")?.clone()
            } else {
                field.clone()
            };
            if builtin(&items) && resolve(&items).is_none() {
                return Some(list_strategy("Pod", path));
            }
            let mut next = resolve(&items)?;
            if next.get("type").and_then(Value::as_str) == Some("array") {
                next = resolve(next.get("items")?)?;
            }
            cur = next;
        }
    }
    let strategy = field
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
        .unwrap_or("");
    let merge_key = field
        .get("x-kubernetes-patch-merge-key")
        .and_then(Value::as_str);
    let map_keys: Option<Vec<String>> = field
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        });
    Some(match (map_keys, merge_key) {
        (Some(keys), _) if !keys.is_empty() => ListStrategy::MapKeys(keys),
        (_, Some(k)) if strategy.contains("merge") => ListStrategy::Key(k.to_string()),
        _ if strategy.contains("merge") => ListStrategy::Union,
        _ => ListStrategy::Replace,
    })
}

fn is_directive_elem(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key("$patch"))
}

/// Applies `patch` to `orig` (both objects) for a resource of `kind`.
pub fn merge(kind: &str, orig: &mut Value, patch: &Value) {
    merge_with(kind, "", None, orig, patch);
}

/// The resource being patched and the custom schema in effect.
struct Target<'a> {
    kind: &'a str,
    group: &'a str,
    version: &'a str,
    schema: Option<&'a Value>,
}

/// Like [`merge`], for a resource of `api_version` with an optional custom OpenAPI document
/// (`openapi.path`) that gives merge keys for kinds the embedded schema does not know.
pub fn merge_with(
    kind: &str,
    api_version: &str,
    schema: Option<&Value>,
    orig: &mut Value,
    patch: &Value,
) {
    let (group, version) = crate::resource::split_api_version(api_version);
    let mut path = Vec::new();
    merge_value(
        &Target {
            kind,
            group,
            version,
            schema,
        },
        &mut path,
        orig,
        patch,
    );
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
    // kustomize's merge walks every field of the original, mentioned by the patch or not.
    for (k, child) in o.iter_mut().filter(|(k, _)| !p.contains_key(*k)) {
        path.push(k.clone());
        walk_unpatched(kind, path, child);
        path.pop();
    }
}

/// What kustomize's merge does to a value of the original that the patch does not mention: the
/// lists merged by a key below it keep one element per key (see [`one_per_key`]); other values
/// stay as they are. Lists replaced as a whole are not entered.
fn walk_unpatched(kind: &Target<'_>, path: &mut Vec<String>, v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                path.push(k.clone());
                walk_unpatched(kind, path, child);
                path.pop();
            }
        }
        Value::Array(items) => {
            let key = match list_strategy_with(kind, path) {
                ListStrategy::Key(key) => key,
                ListStrategy::MapKeys(keys)
                    if !items
                        .iter()
                        .any(|item| keys.iter().skip(1).any(|k| item.get(k).is_some())) =>
                {
                    keys.first().cloned().unwrap_or_default()
                }
                _ => return,
            };
            *items = one_per_key(std::mem::take(items), &key, &mut |item| {
                walk_unpatched(kind, path, item);
            })
            .unwrap_or_else(|unchanged| unchanged);
        }
        _ => {}
    }
}

/// The text of `item`'s merge key, when it is an object with a non-empty scalar there.
fn key_text(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) if s.is_empty() => None,
        Value::Object(_) | Value::Array(_) | Value::Null => None,
        v => Some(crate::resource::scalar_text(v)),
    }
}

/// A list merged by `key` as kustomize's merge leaves it: one element per key value, where the
/// first element with that value stood. An element whose value is unique is walked further
/// (`walk`); of several with one value the last one stands, as it is (kustomize's merge sets
/// each original element into the result by its key, in order, so a later one with the same
/// key replaces the earlier one). `Err` gives the list back unchanged when an element has no
/// key: kustomize's treatment of those is not modelled.
fn one_per_key(
    items: Vec<Value>,
    key: &str,
    walk: &mut dyn FnMut(&mut Value),
) -> Result<Vec<Value>, Vec<Value>> {
    let keys: Vec<Option<String>> = items.iter().map(|i| key_text(i, key)).collect();
    if keys.iter().any(Option::is_none) {
        return Err(items);
    }
    let keys: Vec<String> = keys.into_iter().flatten().collect();
    let mut out: Vec<(String, Value, usize)> = Vec::new();
    for (item, k) in items.into_iter().zip(keys) {
        match out.iter_mut().find(|(seen, _, _)| *seen == k) {
            Some(slot) => {
                slot.1 = item;
                slot.2 += 1;
            }
            None => out.push((k, item, 1)),
        }
    }
    Ok(out
        .into_iter()
        .map(|(_, mut item, count)| {
            if count == 1 {
                walk(&mut item);
            }
            item
        })
        .collect())
}

fn merge_list(
    kind: &Target<'_>,
    path: &mut Vec<String>,
    orig: Vec<Value>,
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
    match list_strategy_with(kind, path) {
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
        // kustomize v5.5 identifies elements by all the list map keys only when the patch uses
        // the secondary ones; otherwise by the first, like a merge key.
        ListStrategy::MapKeys(keys)
            if patch
                .iter()
                .any(|p| keys.iter().skip(1).any(|k| p.get(k).is_some())) =>
        {
            merge_map_list(kind, path, orig, patch, &keys)
        }
        ListStrategy::MapKeys(keys) => {
            let first = keys.first().cloned().unwrap_or_default();
            merge_keyed(kind, path, orig, patch, &first)
        }
        ListStrategy::Key(key) => merge_keyed(kind, path, orig, patch, &key),
    }
}

/// Merges a list by one merge key: patch elements first in patch order (merged into their
/// originals), then the original elements the patch does not mention, in their order. Where
/// the original has several elements with one key, the last of them stands, unmerged, where
/// the first would be (as [`one_per_key`]), and then a patch element whose key came earlier in
/// the patch is ignored (kustomize always ignores one; without repeated keys in the original
/// this keeps the earlier behaviour, which no case has shown to differ).
fn merge_keyed(
    kind: &Target<'_>,
    path: &mut Vec<String>,
    orig: Vec<Value>,
    patch: &[Value],
    key: &str,
) -> Vec<Value> {
    // The original, one element per key, and the keys that had several.
    let (mut orig, repeated): (Vec<Value>, Vec<String>) = {
        let texts: Vec<Option<String>> = orig.iter().map(|o| key_text(o, key)).collect();
        let repeated: Vec<String> = texts
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let t = t.as_ref()?;
                texts[..i].contains(&Some(t.clone())).then(|| t.clone())
            })
            .collect();
        match one_per_key(orig, key, &mut |_| {}) {
            Ok(unique) => (unique, repeated),
            Err(orig) => (orig, Vec::new()),
        }
    };
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for pv in patch {
        let Some(kv) = pv.get(key) else {
            if !is_directive_elem(pv) {
                out.push(strip_directives(pv));
            }
            continue;
        };
        if !repeated.is_empty() {
            if seen.contains(kv) {
                continue;
            }
            seen.push(kv.clone());
        }
        let pos = orig.iter().position(|o| o.get(key) == Some(kv));
        let delete = pv.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                orig.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                let mut slot = orig.remove(i);
                let stands = key_text(&slot, key).is_some_and(|t| repeated.contains(&t));
                if !stands {
                    merge_value(kind, path, &mut slot, pv);
                }
                out.push(slot);
            }
            (None, false) => out.push(fresh_element(kind, path, pv)),
        }
    }
    for mut o in orig {
        if !key_text(&o, key).is_some_and(|t| repeated.contains(&t)) {
            walk_unpatched(kind, path, &mut o);
        }
        out.push(o);
    }
    out
}

/// Merges a list whose elements are identified by several keys together. New patch elements
/// come first, then the original elements, merged, in their order. A patch element that agrees
/// with an original on the keys both carry but not on which keys are present is dropped, as
/// kustomize v5.5 does (`containerPort: 80` against `containerPort: 80, protocol: TCP`).
fn merge_map_list(
    kind: &Target<'_>,
    path: &mut Vec<String>,
    mut orig: Vec<Value>,
    patch: &[Value],
    keys: &[String],
) -> Vec<Value> {
    let id = |v: &Value| -> Vec<Option<Value>> { keys.iter().map(|k| v.get(k).cloned()).collect() };
    let partial = |a: &[Option<Value>], b: &[Option<Value>]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| x.is_none() || y.is_none() || x == y)
    };
    let mut fresh = Vec::new();
    for pv in patch.iter().filter(|v| !is_directive_elem(v)) {
        let pid = id(pv);
        let delete = pv.get("$patch").and_then(Value::as_str) == Some("delete");
        if let Some(i) = orig.iter().position(|o| id(o) == pid) {
            if delete {
                orig.remove(i);
            } else if let Some(slot) = orig.get_mut(i) {
                merge_value(kind, path, slot, pv);
            }
        } else if !delete && !orig.iter().any(|o| partial(&id(o), &pid)) {
            fresh.push(fresh_element(kind, path, pv));
        }
    }
    fresh.extend(orig);
    fresh
}

/// A patch element that matches no original element, merged into an empty one as kustomize
/// does: its null fields (at any depth, through merge-keyed lists) are dropped.
fn fresh_element(kind: &Target<'_>, path: &mut Vec<String>, pv: &Value) -> Value {
    let mut slot = Value::Object(Map::new());
    merge_value(kind, path, &mut slot, pv);
    slot
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
