//! The metadata of a source object: how it is named in the report, and which labels,
//! annotations and finalizers carry over.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Input;
use crate::finding::Notes;

/// `Kind namespace/name (origin)`, or `Kind name (origin)` for an object without namespace.
pub(crate) fn describe(input: &Input) -> String {
    let object = &input.object;
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let kind = match text("/kind") {
        "" => "object without kind",
        kind => kind,
    };
    let name = match text("/metadata/name") {
        "" => "<no name>",
        name => name,
    };
    match text("/metadata/namespace") {
        "" => format!("{kind} {name} ({})", input.origin),
        namespace => format!("{kind} {namespace}/{name} ({})", input.origin),
    }
}

/// Name and namespace of a source object (empty when absent).
pub(crate) fn name_of(object: &Value) -> (String, String) {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (text("/metadata/namespace"), text("/metadata/name"))
}

/// What carries over from a source object's metadata.
#[derive(Debug, Default)]
pub(crate) struct Carried {
    /// Labels, without the old tools' marks.
    pub labels: BTreeMap<String, String>,
    /// Annotations, without the old tools' own.
    pub annotations: BTreeMap<String, String>,
    /// The finalizers, for the caller to map.
    pub finalizers: Vec<String>,
}

/// Label and annotation prefixes that belong to Argo CD or Flux: they mean nothing to
/// Driftless, so they are reported and left out.
const TOOL_PREFIXES: [&str; 3] = ["argoproj.io/", "fluxcd.io/", "toolkit.fluxcd.io/"];

/// Argo CD's instance label, its mark of what it manages when it tracks by label.
pub(crate) const ARGO_INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

fn belongs_to_a_tool(key: &str) -> bool {
    let domain = key.split_once('/').map_or("", |(domain, _)| domain);
    TOOL_PREFIXES.iter().any(|prefix| {
        let prefix = prefix.trim_end_matches('/');
        domain == prefix || domain.ends_with(&format!(".{prefix}"))
    })
}

/// Reads the labels, annotations and finalizers of `object`, reporting what is left out.
pub(crate) fn carry(object: &Value, notes: &mut Notes<'_>) -> Carried {
    let mut carried = Carried::default();
    let Some(metadata) = object.get("metadata").and_then(Value::as_object) else {
        return carried;
    };
    for (field, target) in [("labels", true), ("annotations", false)] {
        let Some(map) = metadata.get(field).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in map {
            let path = format!("metadata.{field}.{key}");
            let Some(value) = value.as_str() else {
                notes.dropped(&path, "not a string");
                continue;
            };
            if key == "kubectl.kubernetes.io/last-applied-configuration" {
                // kubectl's copy of what it last applied; it describes the old object.
                continue;
            }
            if belongs_to_a_tool(key) || (target && key == ARGO_INSTANCE_LABEL) {
                notes.dropped(
                    &path,
                    "a mark or setting of Argo CD or Flux on this object itself; Driftless does not read it",
                );
                continue;
            }
            let into = if target {
                &mut carried.labels
            } else {
                &mut carried.annotations
            };
            into.insert(key.clone(), value.to_owned());
        }
    }
    if let Some(finalizers) = metadata.get("finalizers").and_then(Value::as_array) {
        carried.finalizers = finalizers
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    if metadata
        .get("ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| !refs.is_empty())
    {
        let owners: Vec<String> = metadata
            .get("ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| {
                let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("?");
                format!("{} {}", text("kind"), text("name"))
            })
            .collect();
        notes.dropped(
            "metadata.ownerReferences",
            format!(
                "owned by {}; the Driftless object stands alone (its owner is not converted)",
                owners.join(", ")
            ),
        );
    }
    carried
}

/// The most characters of a label value, which Driftless's `driftless.dev/app` label holds:
/// `<namespace>_<name>` of the Application.
const LABEL_VALUE_MAX: usize = 63;

/// Whether an Application `namespace/name` can carry its tracking label; reported when not.
pub(crate) fn tracking_fits(namespace: &str, name: &str, notes: &mut Notes<'_>) -> bool {
    let length = namespace.len() + 1 + name.len();
    if length > LABEL_VALUE_MAX {
        notes.not_converted(
            Some("metadata.name"),
            format!(
                "the Application {namespace}/{name} would be tracked as {namespace}_{name}, {length} characters: a label value holds at most {LABEL_VALUE_MAX}; choose a shorter name or namespace"
            ),
        );
        return false;
    }
    true
}

/// `metadata` for a Driftless object named `namespace/name`, with what carried over.
pub(crate) fn metadata(namespace: &str, name: &str, carried: &Carried) -> Value {
    let mut metadata = serde_json::json!({"name": name, "namespace": namespace});
    if !carried.labels.is_empty() {
        metadata["labels"] = serde_json::json!(carried.labels);
    }
    if !carried.annotations.is_empty() {
        metadata["annotations"] = serde_json::json!(carried.annotations);
    }
    metadata
}

/// A Driftless Application of `metadata` and the converted `spec`, or `None` (reported) when
/// the spec does not read as an [`driftless_api::ApplicationSpec`].
pub(crate) fn application(
    metadata: Value,
    spec: serde_json::Map<String, Value>,
    notes: &mut Notes<'_>,
) -> Option<Value> {
    let spec: driftless_api::ApplicationSpec = match serde_json::from_value(Value::Object(spec)) {
        Ok(spec) => spec,
        Err(e) => {
            notes.not_converted(
                None,
                format!("the spec does not read as a Driftless Application: {e}"),
            );
            return None;
        }
    };
    Some(serde_json::json!({
        "apiVersion": format!("{}/{}", driftless_api::GROUP, driftless_api::VERSION),
        "kind": "Application",
        "metadata": metadata,
        "spec": spec,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_keys_are_recognised_by_domain() {
        assert!(belongs_to_a_tool("argocd.argoproj.io/sync-wave"));
        assert!(belongs_to_a_tool(
            "notifications.argoproj.io/subscribe.on-sync.slack"
        ));
        assert!(belongs_to_a_tool("kustomize.toolkit.fluxcd.io/name"));
        assert!(belongs_to_a_tool("reconcile.fluxcd.io/requestedAt"));
        assert!(!belongs_to_a_tool("team.example.com/owner"));
        assert!(!belongs_to_a_tool("notargoproj.io/x"));
    }
}
