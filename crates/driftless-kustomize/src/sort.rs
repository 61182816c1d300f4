//! Output order: `sortOptions` (legacy or fifo), or the build's default.

use crate::error::Error;
use crate::kustomization::SortOptions;
use crate::resource::{ResId, Resource};
use crate::target::Reorder;
use std::cmp::Ordering;

/// Kinds printed first in legacy order, in this order.
const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds printed last in legacy order, in this order.
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Sorts the resources as the kustomization (or the default) asks.
pub fn sort(
    res: &mut [Resource],
    opts: Option<&SortOptions>,
    default: Reorder,
) -> Result<(), Error> {
    let (legacy, first, last) = match opts {
        None => (default == Reorder::Legacy, None, None),
        Some(o) => match o.order.as_deref() {
            Some("fifo") => {
                if o.legacy_sort_options.is_some() {
                    return Err(Error::msg(
                        "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
                    ));
                }
                (false, None, None)
            }
            Some("legacy") => {
                let l = o.legacy_sort_options.as_ref();
                (
                    true,
                    l.map(|l| l.order_first.clone()),
                    l.map(|l| l.order_last.clone()),
                )
            }
            _ => {
                return Err(Error::msg(
                    "the field 'sortOptions.order' must be one of [fifo, legacy]",
                ));
            }
        },
    };
    if !legacy {
        return Ok(());
    }
    let first: Vec<String> =
        first.unwrap_or_else(|| ORDER_FIRST.iter().map(|s| s.to_string()).collect());
    let last: Vec<String> =
        last.unwrap_or_else(|| ORDER_LAST.iter().map(|s| s.to_string()).collect());
    let rank = |kind: &str| -> i64 {
        if let Some(i) = first.iter().position(|k| k == kind) {
            return i as i64 - first.len() as i64;
        }
        if let Some(i) = last.iter().position(|k| k == kind) {
            return i as i64 + 1;
        }
        0
    };
    res.sort_by(|a, b| legacy_cmp(&a.id(), &b.id(), &rank));
    Ok(())
}

/// kustomize's legacy comparison: the kind's rank (kinds in neither list rank between the two
/// lists), then the group, version and kind as `group_version_kind` (a missing part as `~G`, `~V`,
/// `~K`, so the core group sorts after named groups; between two `Namespace` kinds of which one
/// is in the core group the order is reversed, so the core Namespace comes first), then, for the
/// same group, version and kind, `namespace|name` compared as one string (an empty namespace as
/// `~X`, an empty name as `~N`).
fn legacy_cmp(a: &ResId, b: &ResId, rank: &dyn Fn(&str) -> i64) -> Ordering {
    let same_gvk = a.group == b.group && a.version == b.version && a.kind == b.kind;
    if !same_gvk {
        match rank(&a.kind).cmp(&rank(&b.kind)) {
            Ordering::Equal => {}
            o => return o,
        }
        let order = gvk_sort_string(a).cmp(&gvk_sort_string(b));
        let core_namespace = a.kind == "Namespace"
            && b.kind == "Namespace"
            && (a.group.is_empty() || b.group.is_empty());
        return if core_namespace {
            order.reverse()
        } else {
            order
        };
    }
    id_sort_string(a).cmp(&id_sort_string(b))
}

fn or<'a>(s: &'a str, missing: &'a str) -> &'a str {
    if s.is_empty() { missing } else { s }
}

fn gvk_sort_string(id: &ResId) -> String {
    format!(
        "{}_{}_{}",
        or(&id.group, "~G"),
        or(&id.version, "~V"),
        or(&id.kind, "~K")
    )
}

fn id_sort_string(id: &ResId) -> String {
    format!("{}|{}", or(&id.namespace, "~X"), or(&id.name, "~N"))
}
