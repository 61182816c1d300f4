//! `v1` Namespace.
//!
//! `status.phase: Terminating` → Progressing (its contents are being deleted); `Active` or not
//! reported → Healthy.

use serde_json::Value;

use crate::status::str_at;
use crate::{Health, HealthStatus};

/// Assesses a Namespace.
pub fn assess(obj: &Value) -> HealthStatus {
    match str_at(obj, &["status", "phase"]) {
        Some("Terminating") => HealthStatus::new(Health::Progressing, "namespace is terminating"),
        _ => HealthStatus::healthy(),
    }
}
