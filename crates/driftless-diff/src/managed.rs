//! Reading `metadata.managedFields`: who owns which fields of a live object.

use serde_json::Value;

use crate::fieldset::{FieldSet, FieldSetError, PathElement};

/// `metadata.managedFields` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManagedFieldsError {
    /// `metadata.managedFields` is not a list of objects.
    #[error("metadata.managedFields is not a list of objects")]
    NotAList,
    /// An entry's `fieldsV1` does not parse.
    #[error("metadata.managedFields entry of manager {manager:?}: {source}")]
    Fields {
        /// The entry's manager.
        manager: String,
        /// What is wrong with its field set.
        #[source]
        source: FieldSetError,
    },
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedFieldsEntry {
    /// The field manager, e.g. `driftless`, `kubectl-edit`, `kube-controller-manager`.
    pub manager: String,
    /// `Apply` (server-side apply) or `Update` (create, update, patch).
    pub operation: String,
    /// The subresource written through (`status`, `scale`), empty for the main resource.
    pub subresource: String,
    /// When the entry last changed (RFC 3339), when reported.
    pub time: Option<String>,
    /// The fields this entry owns.
    pub fields: FieldSet,
}

/// Parses every entry of `obj`'s `metadata.managedFields`; none when the field is absent.
pub fn managed_fields(obj: &Value) -> Result<Vec<ManagedFieldsEntry>, ManagedFieldsError> {
    let Some(entries) = obj.get("metadata").and_then(|m| m.get("managedFields")) else {
        return Ok(Vec::new());
    };
    let entries = entries.as_array().ok_or(ManagedFieldsError::NotAList)?;
    entries
        .iter()
        .map(|entry| {
            let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
            if !entry.is_object() {
                return Err(ManagedFieldsError::NotAList);
            }
            let manager = text("manager").unwrap_or_default();
            let fields = match entry.get("fieldsV1") {
                Some(fields) => FieldSet::from_fields_v1(fields).map_err(|source| {
                    ManagedFieldsError::Fields {
                        manager: manager.clone(),
                        source,
                    }
                })?,
                None => FieldSet::default(),
            };
            Ok(ManagedFieldsEntry {
                operation: text("operation").unwrap_or_default(),
                subresource: text("subresource").unwrap_or_default(),
                time: text("time"),
                manager,
                fields,
            })
        })
        .collect()
}

/// The union of the fields `manager` owns in `obj` (over all its entries: `Apply` and `Update`,
/// any subresource), or `None` when `manager` owns nothing there.
pub fn fields_of(obj: &Value, manager: &str) -> Result<Option<FieldSet>, ManagedFieldsError> {
    let mut union: Option<FieldSet> = None;
    for entry in managed_fields(obj)? {
        if entry.manager == manager {
            union
                .get_or_insert_with(FieldSet::default)
                .union_with(&entry.fields);
        }
    }
    Ok(union)
}

/// The managers owning `pointer` (a JSON Pointer, as in `ObjectDiff::changed_paths`) in `obj`,
/// each once, in `managedFields` order.
///
/// A manager owns a path when its set contains the path itself, an atomic ancestor of it (a
/// leaf above it: a whole list or map), or part of the subtree below it. List indices in the
/// pointer are resolved against `obj`'s own lists, so pass the live object the pointer was
/// computed on.
pub fn managers_of(obj: &Value, pointer: &[String]) -> Result<Vec<String>, ManagedFieldsError> {
    let mut managers: Vec<String> = Vec::new();
    for entry in managed_fields(obj)? {
        if covers(&entry.fields, Some(obj), pointer) && !managers.contains(&entry.manager) {
            managers.push(entry.manager);
        }
    }
    Ok(managers)
}

/// Whether `set` (applying to `value`) covers the path `segments`.
fn covers(set: &FieldSet, value: Option<&Value>, segments: &[String]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        // Reaching the node means the set has a member at or below the path.
        return true;
    };
    if set.is_leaf() {
        // A leaf owns everything below it (an atomic list or map).
        return true;
    }
    let field = set.child(&PathElement::Field(first.clone()));
    if let Some(child) = field {
        return covers(child, value.and_then(|v| v.get(first.as_str())), rest);
    }
    let Some(items) = value.and_then(Value::as_array) else {
        return false;
    };
    let Some((index, item)) = first
        .parse::<usize>()
        .ok()
        .and_then(|i| items.get(i).map(|item| (i, item)))
    else {
        return false;
    };
    match set.item_set(index, item) {
        Some(child) => covers(child, Some(item), rest),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live() -> Value {
        json!({
            "metadata": {"name": "web", "managedFields": [
                {"manager": "driftless", "operation": "Apply", "fieldsV1": {
                    "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"web\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}},
                {"manager": "kubectl-edit", "operation": "Update", "time": "2026-11-22T10:00:00Z",
                 "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"web\"}": {"f:image": {}}}}}}}},
                {"manager": "kube-controller-manager", "operation": "Update",
                 "subresource": "status", "fieldsV1": {"f:status": {"f:replicas": {}}}},
            ]},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:2"}]}}},
        })
    }

    fn segments(pointer: &str) -> Vec<String> {
        crate::pointer::parse(pointer).unwrap_or_default()
    }

    #[test]
    fn names_every_owner_of_a_path() -> Result<(), ManagedFieldsError> {
        let live = live();
        assert_eq!(
            managers_of(&live, &segments("/spec/template/spec/containers/0/image"))?,
            ["driftless", "kubectl-edit"]
        );
        assert_eq!(
            managers_of(&live, &segments("/spec/replicas"))?,
            ["driftless"]
        );
        assert_eq!(
            managers_of(&live, &segments("/status/replicas"))?,
            ["kube-controller-manager"]
        );
        assert!(managers_of(&live, &segments("/spec/paused"))?.is_empty());
        Ok(())
    }

    #[test]
    fn unites_a_managers_entries() -> Result<(), ManagedFieldsError> {
        let live = live();
        let set = fields_of(&live, "driftless")?;
        assert!(set.is_some());
        assert!(fields_of(&live, "nobody")?.is_none());
        let entries = managed_fields(&live)?;
        assert_eq!(entries[1].time.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert_eq!(entries[2].subresource, "status");
        Ok(())
    }

    #[test]
    fn malformed_entries_are_errors_naming_the_manager() {
        let bad = json!({"metadata": {"managedFields": [
            {"manager": "helm", "fieldsV1": {"z:oops": {}}}]}});
        let message = managed_fields(&bad).err().map(|e| e.to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("helm") && m.contains("z:oops"))
        );
        let not_list = json!({"metadata": {"managedFields": {}}});
        assert!(managed_fields(&not_list).is_err());
    }
}
