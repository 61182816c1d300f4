//! `driftless.dev/v1alpha1` Application: a child of an app of apps is as healthy as its own sync
//! and health, so that waves of child Applications run in order.
//!
//! In order:
//! 1. `status.observedGeneration` is absent or older than `metadata.generation` (the child's
//!    controller has not reconciled its current spec yet) → Progressing.
//! 2. `status.operationState.phase` is `Running` or `Retrying` → Progressing ("syncing").
//! 3. `status.health.status` is `Degraded` → Degraded, with its message.
//! 4. `status.sync.status` is `Synced` and `status.health.status` is `Healthy` → Healthy.
//! 5. `status.health.status` is `Suspended` → Suspended.
//! 6. The `Ready` condition is False for a reason that will not pass by itself (`InvalidSpec`,
//!    `FetchFailed`, `RenderFailed`, `DecryptionFailed`, `SyncFailed`, `CompareFailed`,
//!    `ClusterUnreachable`, `EmptyRefused`) → Degraded, with that reason and message.
//! 7. Otherwise (OutOfSync and about to sync, objects still rolling out, waiting for a
//!    dependency) → Progressing, with the `Ready` reason and message.

use serde_json::Value;

use crate::status::{condition, str_at, unobserved_generation};
use crate::{Health, HealthStatus};

/// `Ready` reasons that mean the child will not get healthy without a change.
const STUCK: &[&str] = &[
    "InvalidSpec",
    "FetchFailed",
    "RenderFailed",
    "DecryptionFailed",
    "SyncFailed",
    "CompareFailed",
    "ClusterUnreachable",
    "EmptyRefused",
];

/// Assesses an Application.
pub fn assess(obj: &Value) -> HealthStatus {
    if let Some(waiting) = unobserved_generation(obj, true) {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "the Application has not reconciled its current spec yet ({})",
                waiting.message
            ),
        );
    }
    if let Some(phase @ ("Running" | "Retrying")) =
        str_at(obj, &["status", "operationState", "phase"])
    {
        let revision = str_at(obj, &["status", "operationState", "revision"]).unwrap_or_default();
        return HealthStatus::new(Health::Progressing, format!("syncing {revision} ({phase})"));
    }
    let health = str_at(obj, &["status", "health", "status"]).unwrap_or("Unknown");
    let message = str_at(obj, &["status", "health", "message"]).unwrap_or_default();
    if health == "Degraded" {
        return HealthStatus::new(Health::Degraded, message);
    }
    let sync = str_at(obj, &["status", "sync", "status"]).unwrap_or("Unknown");
    if sync == "Synced" && health == "Healthy" {
        return HealthStatus::healthy();
    }
    if health == "Suspended" {
        return HealthStatus::new(Health::Suspended, message);
    }
    match condition(obj, "Ready") {
        Some(ready) if ready.is_false() && STUCK.contains(&ready.reason) => {
            HealthStatus::new(Health::Degraded, ready.explanation())
        }
        Some(ready) if !ready.is_true() => {
            HealthStatus::new(Health::Progressing, ready.explanation())
        }
        _ => HealthStatus::new(
            Health::Progressing,
            format!("the Application is {sync} and {health}"),
        ),
    }
}
