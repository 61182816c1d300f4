//! Output order: `sortOptions` (legacy or fifo), or the build's default.

use crate::error::Error;
use crate::kustomization::SortOptions;
use crate::resource::Resource;
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
    res.sort_by(|a, b| {
        let (ia, ib) = (a.id(), b.id());
        let gvk = |id: &crate::resource::ResId| {
            let g = if id.group.is_empty() {
                "[noGrp]"
            } else {
                &id.group
            };
            format!("{}.{}.{}", id.kind, id.version, g)
        };
        match rank(&ia.kind).cmp(&rank(&ib.kind)) {
            Ordering::Equal => {}
            o => return o,
        }
        let (ga, gb) = (gvk(&ia), gvk(&ib));
        if ga != gb {
            return ga.cmp(&gb);
        }
        (&ia.namespace, &ia.name).cmp(&(&ib.namespace, &ib.name))
    });
    Ok(())
}
