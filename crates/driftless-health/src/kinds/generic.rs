//! Any other kind, custom resources included, by the conventions most controllers follow.
//!
//! In order:
//! 1. `status.observedGeneration` reported and below `metadata.generation` → Progressing.
//!    (Not reported at all passes: many controllers never write it.)
//! 2. `Stalled` True (the kstatus convention for "gave up") → Degraded.
//! 3. `Reconciling` True → Progressing.
//! 4. The `Ready` condition, or failing that `Available`: True → Healthy; False → Degraded with
//!    its message; Unknown → Progressing.
//! 5. No such condition → Healthy: the object exists and reports nothing to wait for (a
//!    ConfigMap, a Role, a custom resource without status).

use serde_json::Value;

use crate::status::{condition, unobserved_generation};
use crate::{Health, HealthStatus};

/// Assesses an object by its generation and standard conditions.
pub fn assess(obj: &Value) -> HealthStatus {
    if let Some(status) = unobserved_generation(obj, false) {
        return status;
    }
    if let Some(stalled) = condition(obj, "Stalled")
        && stalled.is_true()
    {
        return HealthStatus::new(Health::Degraded, stalled.explanation());
    }
    if let Some(reconciling) = condition(obj, "Reconciling")
        && reconciling.is_true()
    {
        return HealthStatus::new(Health::Progressing, reconciling.explanation());
    }
    let Some(ready) = condition(obj, "Ready").or_else(|| condition(obj, "Available")) else {
        return HealthStatus::healthy();
    };
    match ready.status {
        "True" => HealthStatus::new(Health::Healthy, ready.message),
        "False" => HealthStatus::new(Health::Degraded, ready.explanation()),
        _ => HealthStatus::new(Health::Progressing, ready.explanation()),
    }
}
