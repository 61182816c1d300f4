//! `apps/v1` Deployment.
//!
//! In order:
//! 1. `spec.paused: true` → Suspended.
//! 2. `status.observedGeneration` below `metadata.generation` (or absent) → Progressing: the
//!    status still describes the previous spec.
//! 3. The `Progressing` condition with reason `ProgressDeadlineExceeded` → Degraded: the rollout
//!    did not progress within `spec.progressDeadlineSeconds`.
//! 4. Fewer updated replicas than `spec.replicas` (default 1), old replicas still running, or
//!    fewer available than updated replicas → Progressing, with the count in the message.
//! 5. Otherwise Healthy.

use serde_json::Value;

use crate::status::{condition, flag_at, int_at, short_of, unobserved_generation};
use crate::{Health, HealthStatus};

/// Assesses a Deployment.
pub fn assess(obj: &Value) -> HealthStatus {
    if flag_at(obj, &["spec", "paused"]) {
        return HealthStatus::new(Health::Suspended, "Deployment is paused");
    }
    if let Some(status) = unobserved_generation(obj, true) {
        return status;
    }
    if let Some(progressing) = condition(obj, "Progressing")
        && progressing.reason == "ProgressDeadlineExceeded"
    {
        return HealthStatus::new(
            Health::Degraded,
            format!(
                "Deployment exceeded its progress deadline: {}",
                progressing.explanation()
            ),
        );
    }
    let desired = int_at(obj, &["spec", "replicas"]).unwrap_or(1);
    let total = int_at(obj, &["status", "replicas"]).unwrap_or(0);
    let updated = int_at(obj, &["status", "updatedReplicas"]).unwrap_or(0);
    let available = int_at(obj, &["status", "availableReplicas"]).unwrap_or(0);
    if let Some(status) = short_of(updated, desired, "replicas updated") {
        return status;
    }
    if total > updated {
        return HealthStatus::new(
            Health::Progressing,
            format!("{} old replicas pending termination", total - updated),
        );
    }
    short_of(available, updated, "updated replicas available").unwrap_or_else(HealthStatus::healthy)
}
