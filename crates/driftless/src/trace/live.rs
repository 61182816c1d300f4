//! The live side of a trace: the object's field managers, and who changed a field whose live
//! value differs from Git's (`metadata.managedFields`).

use driftless_cluster::FIELD_MANAGER;
use driftless_resource::FieldPath;
use serde_json::Value;

use super::{FieldManager, FieldReport, Location};

/// Every entry of the live object's `metadata.managedFields`, in its order.
pub fn managers(live: &Value) -> anyhow::Result<Vec<FieldManager>> {
    Ok(driftless_diff::managed_fields(live)?
        .into_iter()
        .map(|entry| FieldManager {
            manager: entry.manager,
            operation: entry.operation,
            time: entry.time,
        })
        .collect())
}

/// `kubectl-edit (Update, 2026-12-01T14:00:00Z), driftless (Apply, ...)`; `None` for none.
pub fn names(managers: &[FieldManager]) -> Option<String> {
    let shown: Vec<String> = managers.iter().map(describe).collect();
    (!shown.is_empty()).then(|| shown.join(", "))
}

/// `kubectl-edit (Update, 2026-12-01T14:00:00Z)`.
pub fn describe(manager: &FieldManager) -> String {
    match &manager.time {
        Some(time) => format!("{} ({}, {time})", manager.manager, manager.operation),
        None => format!("{} ({})", manager.manager, manager.operation),
    }
}

/// The field desired and live; when they differ, the managers other than Driftless that own
/// it in the live object.
pub fn field(
    live: &Value,
    path: &FieldPath,
    desired: Value,
    set_by: Location,
) -> anyhow::Result<FieldReport> {
    let live_value = path.get(live).cloned();
    let differs = live_value.as_ref() != Some(&desired);
    let mut changed_by = Vec::new();
    if differs && let Some(pointer) = path.pointer_in(live) {
        let owners = driftless_diff::other_managers(live, &pointer, FIELD_MANAGER)?;
        for entry in managers(live)? {
            if owners.contains(&entry.manager) && !changed_by.contains(&entry) {
                changed_by.push(entry);
            }
        }
    }
    Ok(FieldReport {
        path: path.to_string(),
        desired,
        set_by,
        live: live_value,
        differs,
        changed_by,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn live() -> Value {
        json!({
            "metadata": {"name": "web", "managedFields": [
                {"manager": "driftless", "operation": "Apply", "time": "2026-12-01T10:00:00Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}}}},
                {"manager": "kubectl-edit", "operation": "Update", "time": "2026-12-01T12:00:00Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            ]},
            "spec": {"replicas": 5, "paused": false},
        })
    }

    fn set_by() -> Location {
        Location {
            file: "a.yaml".into(),
            line: Some(1),
            end_line: Some(1),
            how: "declared".into(),
            kustomization_field: None,
        }
    }

    #[test]
    fn a_field_changed_live_names_the_manager_that_changed_it() -> anyhow::Result<()> {
        let path: FieldPath = "spec.replicas".parse()?;
        let report = field(&live(), &path, json!(3), set_by())?;
        assert!(report.differs);
        assert_eq!(report.live, Some(json!(5)));
        assert_eq!(
            report.changed_by,
            [FieldManager {
                manager: "kubectl-edit".into(),
                operation: "Update".into(),
                time: Some("2026-12-01T12:00:00Z".into()),
            }]
        );
        let same = field(&live(), &"spec.paused".parse()?, json!(false), set_by())?;
        assert!(!same.differs && same.changed_by.is_empty());
        assert_eq!(
            names(&managers(&live())?).as_deref(),
            Some(
                "driftless (Apply, 2026-12-01T10:00:00Z), kubectl-edit (Update, 2026-12-01T12:00:00Z)"
            )
        );
        Ok(())
    }
}
