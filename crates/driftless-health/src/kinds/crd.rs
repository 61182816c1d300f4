//! `apiextensions.k8s.io/v1` CustomResourceDefinition.
//!
//! In order:
//! 1. `NamesAccepted` False (the plural or kind clashes with another CRD) → Degraded.
//! 2. `Terminating` True → Progressing.
//! 3. `Established` True → Healthy: the API server serves the new resource, so custom
//!    resources of it can be applied (the reason waves wait on CRDs).
//! 4. Otherwise → Progressing.

use serde_json::Value;

use crate::status::condition;
use crate::{Health, HealthStatus};

/// Assesses a CustomResourceDefinition.
pub fn assess(obj: &Value) -> HealthStatus {
    if let Some(names) = condition(obj, "NamesAccepted")
        && names.is_false()
    {
        return HealthStatus::new(Health::Degraded, names.explanation());
    }
    if condition(obj, "Terminating").is_some_and(|c| c.is_true()) {
        return HealthStatus::new(Health::Progressing, "CRD is terminating");
    }
    match condition(obj, "Established") {
        Some(established) if established.is_true() => HealthStatus::healthy(),
        _ => HealthStatus::new(Health::Progressing, "waiting for the CRD to be established"),
    }
}
