//! `apps/v1` ReplicaSet.
//!
//! In order:
//! 1. Generation not yet observed → Progressing.
//! 2. The `ReplicaFailure` condition is True (pods cannot be created: quota, admission) →
//!    Degraded with the condition's message.
//! 3. Fewer available replicas than `spec.replicas` (default 1) → Progressing.
//! 4. Otherwise Healthy.

use serde_json::Value;

use crate::status::{condition, int_at, short_of, unobserved_generation};
use crate::{Health, HealthStatus};

/// Assesses a ReplicaSet.
pub fn assess(obj: &Value) -> HealthStatus {
    if let Some(status) = unobserved_generation(obj, true) {
        return status;
    }
    if let Some(failure) = condition(obj, "ReplicaFailure")
        && failure.is_true()
    {
        return HealthStatus::new(Health::Degraded, failure.explanation());
    }
    let desired = int_at(obj, &["spec", "replicas"]).unwrap_or(1);
    let available = int_at(obj, &["status", "availableReplicas"]).unwrap_or(0);
    short_of(available, desired, "replicas available").unwrap_or_else(HealthStatus::healthy)
}
