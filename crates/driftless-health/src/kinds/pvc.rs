//! `v1` PersistentVolumeClaim.
//!
//! By `status.phase`: `Bound` → Healthy; `Lost` (the bound volume is gone) → Degraded;
//! `Pending` or not reported → Progressing.

use serde_json::Value;

use crate::status::str_at;
use crate::{Health, HealthStatus};

/// Assesses a PersistentVolumeClaim.
pub fn assess(obj: &Value) -> HealthStatus {
    match str_at(obj, &["status", "phase"]) {
        Some("Bound") => HealthStatus::healthy(),
        Some("Lost") => HealthStatus::new(Health::Degraded, "the claim lost its volume"),
        _ => HealthStatus::new(Health::Progressing, "waiting for the claim to be bound"),
    }
}
