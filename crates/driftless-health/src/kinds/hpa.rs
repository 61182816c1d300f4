//! `autoscaling` HorizontalPodAutoscaler (v1 and v2).
//!
//! In order:
//! 1. The `AbleToScale` condition is False (the scale target cannot be read or updated) →
//!    Degraded.
//! 2. The `ScalingActive` condition is False with a reason starting with `Failed` or `Invalid`
//!    (metrics cannot be read, bad metric spec) → Degraded. `ScalingDisabled` (target scaled to
//!    zero) is not a failure → Suspended.
//! 3. No conditions yet (`autoscaling/v1` keeps them in an annotation only, and a fresh v2 HPA
//!    has none) → Progressing when `status.currentReplicas` is not reported either, Healthy
//!    otherwise.
//! 4. Otherwise Healthy (`ScalingLimited` only says the HPA sits at its bounds).

use serde_json::Value;

use crate::status::{condition, int_at, list_at};
use crate::{Health, HealthStatus};

/// Assesses a HorizontalPodAutoscaler.
pub fn assess(obj: &Value) -> HealthStatus {
    if let Some(able) = condition(obj, "AbleToScale")
        && able.is_false()
    {
        return HealthStatus::new(Health::Degraded, able.explanation());
    }
    if let Some(active) = condition(obj, "ScalingActive")
        && active.is_false()
    {
        if active.reason.starts_with("Failed") || active.reason.starts_with("Invalid") {
            return HealthStatus::new(Health::Degraded, active.explanation());
        }
        if active.reason == "ScalingDisabled" {
            return HealthStatus::new(Health::Suspended, active.explanation());
        }
    }
    if list_at(obj, &["status", "conditions"]).is_empty()
        && int_at(obj, &["status", "currentReplicas"]).is_none()
    {
        return HealthStatus::new(Health::Progressing, "waiting for the autoscaler to report");
    }
    HealthStatus::healthy()
}
