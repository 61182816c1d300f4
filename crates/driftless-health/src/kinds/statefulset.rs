//! `apps/v1` StatefulSet.
//!
//! In order:
//! 1. Generation not yet observed → Progressing.
//! 2. Fewer ready replicas than `spec.replicas` (default 1) → Progressing.
//! 3. `spec.updateStrategy.type: OnDelete` → Healthy: the controller does not roll pods itself,
//!    so there is no rollout to wait for.
//! 4. A partitioned rolling update (`spec.updateStrategy.rollingUpdate.partition: P`) is done when
//!    `replicas - P` pods are updated → Progressing until then, Healthy after.
//! 5. `status.updateRevision` differs from `status.currentRevision`, or fewer updated than
//!    desired replicas → Progressing (rolling update under way).
//! 6. Otherwise Healthy.

use serde_json::Value;

use crate::status::{int_at, short_of, str_at, unobserved_generation};
use crate::{Health, HealthStatus};

/// Assesses a StatefulSet.
pub fn assess(obj: &Value) -> HealthStatus {
    if let Some(status) = unobserved_generation(obj, true) {
        return status;
    }
    let desired = int_at(obj, &["spec", "replicas"]).unwrap_or(1);
    let ready = int_at(obj, &["status", "readyReplicas"]).unwrap_or(0);
    if let Some(status) = short_of(ready, desired, "replicas ready") {
        return status;
    }
    if str_at(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
        return HealthStatus::new(
            Health::Healthy,
            "update strategy OnDelete: pods roll when deleted",
        );
    }
    let updated = int_at(obj, &["status", "updatedReplicas"]).unwrap_or(0);
    if let Some(partition) = int_at(
        obj,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
    ) && partition > 0
    {
        let expected = (desired - partition).max(0);
        if updated < expected {
            return HealthStatus::new(
                Health::Progressing,
                format!("{updated} of {expected} replicas above partition {partition} updated"),
            );
        }
        return HealthStatus::new(
            Health::Healthy,
            format!("partitioned rollout complete: {updated} updated"),
        );
    }
    let current = str_at(obj, &["status", "currentRevision"]);
    let update = str_at(obj, &["status", "updateRevision"]);
    if updated < desired || (update.is_some() && current != update) {
        return HealthStatus::new(
            Health::Progressing,
            format!("rolling update in progress: {updated} of {desired} replicas updated"),
        );
    }
    HealthStatus::healthy()
}
