//! `apiregistration.k8s.io/v1` APIService.
//!
//! The `Available` condition True → Healthy (locally served group versions report it at once;
//! aggregated ones once their backing Service answers discovery). False or not reported yet →
//! Progressing with the condition's reason (e.g. `MissingEndpoints` while the backing pods
//! start).

use serde_json::Value;

use crate::status::condition;
use crate::{Health, HealthStatus};

/// Assesses an APIService.
pub fn assess(obj: &Value) -> HealthStatus {
    match condition(obj, "Available") {
        Some(available) if available.is_true() => HealthStatus::healthy(),
        Some(available) => HealthStatus::new(Health::Progressing, available.explanation()),
        None => HealthStatus::new(
            Health::Progressing,
            "waiting for the APIService to be available",
        ),
    }
}
