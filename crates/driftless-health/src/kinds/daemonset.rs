//! `apps/v1` DaemonSet.
//!
//! In order:
//! 1. Generation not yet observed → Progressing.
//! 2. `spec.updateStrategy.type: OnDelete` → Healthy: no rollout to wait for.
//! 3. `status.updatedNumberScheduled` below `status.desiredNumberScheduled` → Progressing.
//! 4. `status.numberAvailable` below `status.desiredNumberScheduled` → Progressing.
//! 5. Otherwise Healthy (including a DaemonSet that matches no node: zero of zero).

use serde_json::Value;

use crate::status::{int_at, short_of, str_at, unobserved_generation};
use crate::{Health, HealthStatus};

/// Assesses a DaemonSet.
pub fn assess(obj: &Value) -> HealthStatus {
    if let Some(status) = unobserved_generation(obj, true) {
        return status;
    }
    if str_at(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
        return HealthStatus::new(
            Health::Healthy,
            "update strategy OnDelete: pods roll when deleted",
        );
    }
    let desired = int_at(obj, &["status", "desiredNumberScheduled"]).unwrap_or(0);
    let updated = int_at(obj, &["status", "updatedNumberScheduled"]).unwrap_or(0);
    let available = int_at(obj, &["status", "numberAvailable"]).unwrap_or(0);
    short_of(updated, desired, "scheduled pods updated")
        .or_else(|| short_of(available, desired, "scheduled pods available"))
        .unwrap_or_else(HealthStatus::healthy)
}
